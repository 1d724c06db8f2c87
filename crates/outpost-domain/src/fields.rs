//! Per-field validation messages, shown beside the field that caused them.

use std::collections::BTreeMap;

/// Messages keyed by form field name; at most one message per field (the first found).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(BTreeMap<&'static str, String>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `message` for `field` unless the field already has one.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(field, message)| (*field, message.as_str()))
    }

    /// Returns `Ok(value)` when no field has a message.
    pub fn into_result<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.is_empty() { Ok(value) } else { Err(self) }
    }
}

/// Checks a single-line text field: trimmed, at most `max_chars` characters, no control
/// characters. Returns the trimmed text.
pub fn single_line(
    errors: &mut FieldErrors,
    field: &'static str,
    label: &str,
    value: &str,
    max_chars: usize,
) -> String {
    let trimmed = value.trim();
    let length = trimmed.chars().count();

    if length > max_chars {
        errors.add(
            field,
            format!("{label} is too long: {length} characters, the maximum is {max_chars}."),
        );
    } else if trimmed.chars().any(char::is_control) {
        errors.add(field, format!("{label} must not contain control characters such as tabs, line breaks or NUL."));
    }

    trimmed.to_owned()
}

/// Like [`single_line`], and also reports an empty value as missing.
pub fn required_line(
    errors: &mut FieldErrors,
    field: &'static str,
    label: &str,
    value: &str,
    max_chars: usize,
) -> String {
    let text = single_line(errors, field, label, value, max_chars);
    if text.is_empty() {
        errors.add(field, format!("{label} is required."));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_rejects_nul() {
        let mut errors = FieldErrors::new();
        single_line(&mut errors, "city", "City", "Ber\0lin", 100);
        assert!(errors.get("city").is_some_and(|m| m.contains("control characters")));
    }

    #[test]
    fn single_line_rejects_overlong_text() {
        let mut errors = FieldErrors::new();
        single_line(&mut errors, "city", "City", &"x".repeat(10_000), 100);
        assert_eq!(
            errors.get("city"),
            Some("City is too long: 10000 characters, the maximum is 100.")
        );
    }

    #[test]
    fn required_line_reports_blank_as_missing() {
        let mut errors = FieldErrors::new();
        required_line(&mut errors, "name", "Name", "   ", 100);
        assert_eq!(errors.get("name"), Some("Name is required."));
    }

    #[test]
    fn first_message_per_field_wins() {
        let mut errors = FieldErrors::new();
        errors.add("name", "first");
        errors.add("name", "second");
        assert_eq!(errors.get("name"), Some("first"));
    }
}
