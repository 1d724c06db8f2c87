//! CSRF protection for forms: a random value in an HttpOnly cookie, and in each form an HMAC
//! of it under the server's secret key, so a page on another site can neither read nor forge
//! the form token. Unsafe requests whose `Origin` or `Sec-Fetch-Site` shows another site are
//! rejected before any handler runs.

use std::sync::{Arc, OnceLock};

use axum::extract::{FromRequestParts, Request};
use axum::http::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::auth::token::Token;
use crate::error::AppError;
use crate::state::AppState;

pub const CSRF_COOKIE: &str = "outpost_csrf";
pub const CSRF_FIELD: &str = "csrf_token";

/// The browser's CSRF cookie for this request. A request without one gets a new value only
/// when a page asks for a form token, so requests that render no form (operations endpoints,
/// the agent API, assets) cost no random value, HMAC or `Set-Cookie`.
#[derive(Debug, Clone)]
pub struct CsrfCookie {
    existing: Option<Token>,
    created: Arc<OnceLock<Token>>,
}

/// The token to embed in this request's forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl CsrfCookie {
    /// The form token for this browser, creating its cookie value on first use.
    fn form_token(&self, state: &AppState) -> String {
        let value = match &self.existing {
            Some(value) => value,
            None => self.created.get_or_init(Token::generate),
        };
        form_token_for(state, value.expose())
    }

    /// Checks a submitted form token in constant time. A browser that sent no cookie fails.
    pub fn verify(&self, state: &AppState, submitted: &str) -> bool {
        let Some(value) = &self.existing else {
            return false;
        };
        let expected = form_token_for(state, value.expose());
        expected.as_bytes().ct_eq(submitted.as_bytes()).into()
    }
}

fn form_token_for(state: &AppState, cookie_value: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(state.secret_key.bytes()) else {
        // HMAC accepts keys of any length, so this branch is unreachable.
        return String::new();
    };
    mac.update(b"outpost csrf\0");
    mac.update(cookie_value.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Reads a cookie by name from the request headers.
pub fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn is_well_formed(value: &str) -> bool {
    value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the request comes from a page of another site. `Sec-Fetch-Site`, which browsers
/// set and pages cannot, decides when present. Otherwise `Origin` is compared with the public
/// URL and with the `Host` the browser addressed (a reverse proxy may rewrite `Host`, so the
/// public URL also counts). Pages sent with `Referrer-Policy: no-referrer` make Chromium send
/// `Origin: null` on their own forms, which is why `Sec-Fetch-Site` goes first.
fn is_cross_site(headers: &HeaderMap, public_url: &str) -> bool {
    match headers.get("sec-fetch-site").and_then(|value| value.to_str().ok()) {
        Some("same-origin" | "none") => return false,
        Some(_) => return true,
        None => {}
    }

    let Some(origin) = headers.get(ORIGIN).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    if origin == "null" {
        return true;
    }
    if origin.eq_ignore_ascii_case(public_url) {
        return false;
    }
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let host = headers.get(HOST).and_then(|value| value.to_str().ok()).unwrap_or_default();
    !origin_host.eq_ignore_ascii_case(host)
}

/// Rejects an unsafe request from another site, else attaches the browser's CSRF cookie to
/// the request for the form-token extractors. Runs for every route a browser uses.
pub fn check_request(state: &AppState, request: &mut Request) -> Result<CsrfCookie, AppError> {
    let is_unsafe = !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if is_unsafe && is_cross_site(request.headers(), &state.config.public_url) {
        return Err(AppError::Forbidden("Requests from other sites are rejected. Open the portal and submit the form from there.".into()));
    }

    let existing = read_cookie(request.headers(), CSRF_COOKIE).filter(|value| is_well_formed(value)).map(Token::from_client);
    let cookie = CsrfCookie { existing, created: Arc::new(OnceLock::new()) };
    request.extensions_mut().insert(cookie.clone());
    request.extensions_mut().insert(state.clone());
    Ok(cookie)
}

/// Sends the browser the cookie value created while the request rendered a form, if any.
pub fn finish_response(state: &AppState, cookie: &CsrfCookie, response: &mut Response) {
    if let Some(created) = cookie.created.get() {
        let secure = if state.config.uses_https() { "; Secure" } else { "" };
        let header = format!("{CSRF_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax{secure}", created.expose());
        if let Ok(value) = HeaderValue::from_str(&header) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let missing = || AppError::Internal(anyhow::anyhow!("CSRF layer missing on this route"));
        let cookie = parts.extensions.get::<CsrfCookie>().ok_or_else(missing)?;
        let state = parts.extensions.get::<AppState>().ok_or_else(missing)?;
        Ok(CsrfToken(cookie.form_token(state)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC_URL: &str = "http://127.0.0.1:8080";

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn same_origin_is_not_cross_site() {
        assert!(!is_cross_site(&headers(&[("origin", "http://127.0.0.1:8080"), ("host", "127.0.0.1:8080")]), PUBLIC_URL));
    }

    #[test]
    fn other_origin_is_cross_site() {
        assert!(is_cross_site(&headers(&[("origin", "https://evil.example"), ("host", "127.0.0.1:8080")]), PUBLIC_URL));
    }

    #[test]
    fn sec_fetch_site_cross_site_is_rejected() {
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")]), PUBLIC_URL));
    }

    #[test]
    fn null_origin_from_same_origin_page_is_accepted() {
        let map = headers(&[("origin", "null"), ("sec-fetch-site", "same-origin"), ("host", "127.0.0.1:8080")]);
        assert!(!is_cross_site(&map, PUBLIC_URL));
    }

    #[test]
    fn null_origin_without_fetch_metadata_is_rejected() {
        assert!(is_cross_site(&headers(&[("origin", "null"), ("host", "127.0.0.1:8080")]), PUBLIC_URL));
    }

    #[test]
    fn same_site_subdomain_is_rejected() {
        let map = headers(&[("origin", "https://other.example.com"), ("sec-fetch-site", "same-site")]);
        assert!(is_cross_site(&map, "https://portal.example.com"));
    }

    #[test]
    fn missing_origin_is_not_cross_site() {
        assert!(!is_cross_site(&headers(&[("host", "127.0.0.1:8080")]), PUBLIC_URL));
    }

    #[test]
    fn public_url_origin_behind_rewriting_proxy_is_same_site() {
        let proxied = headers(&[("origin", "https://portal.example.com"), ("host", "10.0.0.5:8080")]);
        assert!(!is_cross_site(&proxied, "https://portal.example.com"));
    }

    #[test]
    fn read_cookie_finds_named_value() {
        let map = headers(&[("cookie", "a=1; outpost_csrf=xyz; b=2")]);
        assert_eq!(read_cookie(&map, CSRF_COOKIE), Some("xyz"));
    }
}
