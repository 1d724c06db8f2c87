//! Recovery codes: one-time codes that stand in for a TOTP code when the phone is lost. Each
//! has 24 base32 characters (120 random bits), shown in groups of four.

use rand::RngCore;

/// Codes in a set.
pub const CODES_PER_SET: usize = 10;
/// Characters per code, 5 bits each.
pub const CODE_CHARS: usize = 24;

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Generates a set of codes, formatted for display (`abcd-efgh-…`).
pub fn generate_set() -> Vec<String> {
    (0..CODES_PER_SET).map(|_| generate_code()).collect()
}

fn generate_code() -> String {
    let mut bytes = [0_u8; CODE_CHARS];
    rand::rng().fill_bytes(&mut bytes);

    let characters: Vec<char> = bytes.iter().map(|byte| char::from(ALPHABET[usize::from(byte & 0x1f)])).collect();
    characters.chunks(4).map(|group| group.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// Reads a code as typed: spaces and hyphens are dropped and letters lower-cased. Returns
/// `None` unless 24 base32 characters remain.
pub fn normalize_code(input: &str) -> Option<String> {
    let code: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).flat_map(char::to_lowercase).collect();
    let valid = code.len() == CODE_CHARS && code.bytes().all(|b| ALPHABET.contains(&b));
    if valid { Some(code) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_has_ten_distinct_codes() {
        let set = generate_set();
        let mut unique = set.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(set.len(), 10);
        assert_eq!(unique.len(), 10);
    }

    #[test]
    fn generated_code_normalizes_to_24_characters() {
        let code = generate_code();
        assert_eq!(code.len(), 29, "six groups of four with five hyphens");
        assert_eq!(normalize_code(&code).map(|normalized| normalized.len()), Some(24));
    }

    #[test]
    fn normalize_accepts_upper_case_and_spaces() {
        assert_eq!(
            normalize_code("ABCD EFGH-IJKL mnop qrst uvwx"),
            Some("abcdefghijklmnopqrstuvwx".to_owned())
        );
    }

    #[test]
    fn normalize_rejects_wrong_length_and_alphabet() {
        assert_eq!(normalize_code("abcd-efgh"), None);
        assert_eq!(normalize_code("abcd-efgh-ijkl-mnop-qrst-uvw1"), None, "1 is not base32");
        assert_eq!(normalize_code("005924"), None);
    }
}
