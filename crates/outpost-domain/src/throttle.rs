//! The sign-in throttle: after 5 consecutive failures each further try waits, from 30 seconds
//! doubling up to 15 minutes; at 100 consecutive failures the account locks until a password
//! reset or `outpost admin unlock`.

/// Consecutive failures allowed before any wait.
pub const FREE_FAILURES: i64 = 5;
/// First wait, in seconds, after the free failures are used up.
pub const FIRST_DELAY_SECONDS: i64 = 30;
/// Longest wait, in seconds.
pub const MAX_DELAY_SECONDS: i64 = 15 * 60;
/// Consecutive failures that lock an account.
pub const LOCK_AFTER_FAILURES: i64 = 100;

/// What the throttle decides for the next try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Wait this many more seconds.
    Wait(i64),
    Locked,
}

/// Seconds to wait after `failures` consecutive failures, counted from the last failure.
pub fn delay_after(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }

    let doublings = (failures - FREE_FAILURES).min(16);
    let delay = FIRST_DELAY_SECONDS.saturating_mul(1_i64 << doublings);
    delay.min(MAX_DELAY_SECONDS)
}

/// Decides whether a try at unix time `now` may go ahead, given the consecutive failures
/// and the unix time of the last one. `can_lock` is false for counters that are not tied to
/// one account, such as those of a client address.
pub fn verdict(failures: i64, last_failure_at: i64, now: i64, can_lock: bool) -> Verdict {
    if can_lock && failures >= LOCK_AFTER_FAILURES {
        return Verdict::Locked;
    }

    let allowed_at = last_failure_at.saturating_add(delay_after(failures));
    if failures >= FREE_FAILURES && now < allowed_at {
        Verdict::Wait(allowed_at - now)
    } else {
        Verdict::Allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_is_zero_for_first_four_failures() {
        for failures in 0..5 {
            assert_eq!(delay_after(failures), 0, "{failures}");
        }
    }

    #[test]
    fn delay_doubles_from_thirty_seconds() {
        assert_eq!(delay_after(5), 30);
        assert_eq!(delay_after(6), 60);
        assert_eq!(delay_after(7), 120);
        assert_eq!(delay_after(9), 480);
    }

    #[test]
    fn delay_caps_at_fifteen_minutes() {
        assert_eq!(delay_after(10), 900);
        assert_eq!(delay_after(99), 900);
        assert_eq!(delay_after(i64::MAX), 900);
    }

    #[test]
    fn verdict_waits_until_delay_passes() {
        assert_eq!(verdict(5, 1_000, 1_010, true), Verdict::Wait(20));
        assert_eq!(verdict(5, 1_000, 1_030, true), Verdict::Allowed);
    }

    #[test]
    fn verdict_locks_account_at_one_hundred() {
        assert_eq!(verdict(100, 0, 1_000_000, true), Verdict::Locked);
        assert_eq!(verdict(99, 0, 1_000_000, true), Verdict::Allowed);
    }

    #[test]
    fn verdict_never_locks_address_counters() {
        assert_eq!(verdict(500, 0, 1_000_000, false), Verdict::Allowed);
    }
}
