//! Form bodies (`application/x-www-form-urlencoded`), read strictly: every name and value
//! must be valid UTF-8 after percent-decoding, and the CSRF token must match.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;

use crate::auth::csrf::{CSRF_FIELD, CsrfCookie};
use crate::error::AppError;
use crate::state::AppState;

/// Largest form body accepted, in bytes; larger bodies get 413.
pub const FORM_BODY_LIMIT: usize = 64 * 1024;

/// The fields of a submitted form. A name sent twice keeps its first value.
#[derive(Debug, Default)]
pub struct Form {
    fields: HashMap<String, String>,
}

impl Form {
    /// The value of a field, or "" when it was not sent.
    pub fn text(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// Whether a checkbox was ticked (sent at all, with any value).
    pub fn checkbox(&self, name: &str) -> bool {
        self.fields.contains_key(name)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    MalformedEscape,
    NotUtf8 { field: String },
}

fn percent_decode(input: &[u8]) -> Result<Vec<u8>, ParseError> {
    let mut output = Vec::with_capacity(input.len());
    let mut index = 0;
    while index < input.len() {
        match input[index] {
            b'+' => output.push(b' '),
            b'%' => {
                let high = input.get(index + 1).and_then(|b| (*b as char).to_digit(16));
                let low = input.get(index + 2).and_then(|b| (*b as char).to_digit(16));
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(ParseError::MalformedEscape);
                };
                output.push(u8::try_from(high * 16 + low).map_err(|_| ParseError::MalformedEscape)?);
                index += 2;
            }
            byte => output.push(byte),
        }
        index += 1;
    }
    Ok(output)
}

/// Parses a form body. Names are checked for UTF-8 first so a message can name the field.
pub fn parse(body: &[u8]) -> Result<HashMap<String, String>, ParseError> {
    let mut fields = HashMap::new();
    for pair in body.split(|b| *b == b'&').filter(|pair| !pair.is_empty()) {
        let (raw_name, raw_value) = match pair.iter().position(|b| *b == b'=') {
            Some(position) => (&pair[..position], &pair[position + 1..]),
            None => (pair, &[][..]),
        };

        let name = String::from_utf8(percent_decode(raw_name)?)
            .map_err(|_| ParseError::NotUtf8 { field: "(a field name)".to_owned() })?;
        let value = String::from_utf8(percent_decode(raw_value)?)
            .map_err(|_| ParseError::NotUtf8 { field: name.chars().take(40).collect() })?;
        fields.entry(name).or_insert(value);
    }
    Ok(fields)
}

impl FromRequest<AppState> for Form {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let is_form = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(AppError::UnsupportedMediaType);
        }

        let csrf_cookie = request.extensions().get::<CsrfCookie>().cloned();

        let body = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest(format!("The form could not be read: {rejection}."))
            }
        })?;

        let fields = parse(&body).map_err(|error| match error {
            ParseError::MalformedEscape => {
                AppError::BadRequest("The form data is malformed: a % is not followed by two hexadecimal digits.".into())
            }
            ParseError::NotUtf8 { field } => {
                AppError::BadRequest(format!("The form field \"{field}\" is not valid UTF-8 text. Retype it and submit again."))
            }
        })?;

        let submitted = fields.get(CSRF_FIELD).map_or("", String::as_str);
        let csrf_ok = csrf_cookie.is_some_and(|cookie| cookie.verify(state, submitted));
        if !csrf_ok {
            return Err(AppError::Forbidden(
                "The form's security token is missing or expired. Reload the page and submit the form again.".into(),
            ));
        }

        Ok(Self { fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_decodes_plus_and_percent() -> Result<(), ParseError> {
        let fields = parse(b"name=Ana+L%C3%B3pez&city=S%C3%A3o%20Paulo")?;
        assert_eq!(fields.get("name").map(String::as_str), Some("Ana López"));
        assert_eq!(fields.get("city").map(String::as_str), Some("São Paulo"));
        Ok(())
    }

    #[test]
    fn parse_rejects_invalid_utf8_naming_field() {
        assert_eq!(parse(b"city=%FF%FE"), Err(ParseError::NotUtf8 { field: "city".to_owned() }));
    }

    #[test]
    fn parse_rejects_truncated_escape() {
        assert_eq!(parse(b"city=abc%4"), Err(ParseError::MalformedEscape));
    }

    #[test]
    fn parse_keeps_nul_for_field_validation() -> Result<(), ParseError> {
        let fields = parse(b"city=a%00b")?;
        assert_eq!(fields.get("city").map(String::as_str), Some("a\0b"));
        Ok(())
    }

    #[test]
    fn parse_keeps_first_of_repeated_names() -> Result<(), ParseError> {
        let fields = parse(b"a=1&a=2")?;
        assert_eq!(fields.get("a").map(String::as_str), Some("1"));
        Ok(())
    }
}
