//! A short description of a browser from its User-Agent header, such as "Firefox on Linux".

/// Describes the browser and operating system named in a User-Agent value.
pub fn describe(user_agent: &str) -> String {
    let browser = if user_agent.contains("Edg/") {
        "Edge"
    } else if user_agent.contains("OPR/") {
        "Opera"
    } else if user_agent.contains("Firefox/") {
        "Firefox"
    } else if user_agent.contains("Chrome/") || user_agent.contains("Chromium/") {
        "Chrome"
    } else if user_agent.contains("Safari/") {
        "Safari"
    } else {
        "Unknown browser"
    };

    let system = if user_agent.contains("Android") {
        "Android"
    } else if user_agent.contains("iPhone") || user_agent.contains("iPad") {
        "iOS"
    } else if user_agent.contains("Windows") {
        "Windows"
    } else if user_agent.contains("Mac OS X") || user_agent.contains("Macintosh") {
        "macOS"
    } else if user_agent.contains("CrOS") {
        "ChromeOS"
    } else if user_agent.contains("Linux") {
        "Linux"
    } else {
        "an unknown system"
    };

    format!("{browser} on {system}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firefox_on_linux() {
        let agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(describe(agent), "Firefox on Linux");
    }

    #[test]
    fn edge_on_windows_is_not_chrome() {
        let agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0";
        assert_eq!(describe(agent), "Edge on Windows");
    }

    #[test]
    fn safari_on_iphone() {
        let agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(describe(agent), "Safari on iOS");
    }

    #[test]
    fn empty_agent_is_unknown() {
        assert_eq!(describe(""), "Unknown browser on an unknown system");
    }
}
