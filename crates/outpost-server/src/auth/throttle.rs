//! The throttle on failed passwords, per username and per client address, kept in the
//! database so it holds across server instances. Counters of a client address start over
//! after an hour without failures; username counters start over only after a success, a
//! password reset or `outpost admin unlock`.

use outpost_domain::throttle::{Verdict, verdict};
use outpost_store::throttle::{self, Counter, Scope};

use crate::state::AppState;

/// An address counter whose last failure is older than this, in seconds, starts over.
pub const ADDRESS_QUIET_RESET_SECONDS: i64 = 60 * 60;

async fn address_counter(state: &AppState, scope: Scope, address: &str) -> Result<Counter, outpost_store::StoreError> {
    let counter = throttle::get(&state.database, scope, address).await?;
    if counter.failures > 0 && state.now() - counter.last_failure_at > ADDRESS_QUIET_RESET_SECONDS {
        throttle::reset(&state.database, scope, address).await?;
        return Ok(Counter::default());
    }
    Ok(counter)
}

/// Decides whether a password try for `username` from `address` may go ahead now.
pub async fn check_password_attempt(state: &AppState, username: &str, address: &str) -> Result<Verdict, outpost_store::StoreError> {
    let now = state.now();
    let by_username = throttle::get(&state.database, Scope::Username, username).await?;
    let by_address = address_counter(state, Scope::ClientAddress, address).await?;

    let user_verdict = verdict(by_username.failures, by_username.last_failure_at, now, true);
    let address_verdict = verdict(by_address.failures, by_address.last_failure_at, now, false);
    Ok(stricter(user_verdict, address_verdict))
}

/// Counts a failed password; returns the verdict for the next try.
pub async fn record_password_failure(state: &AppState, username: &str, address: &str) -> Result<Verdict, outpost_store::StoreError> {
    let now = state.now();
    let user_failures = throttle::record_failure(&state.database, Scope::Username, username, now).await?;
    address_counter(state, Scope::ClientAddress, address).await?;
    let address_failures = throttle::record_failure(&state.database, Scope::ClientAddress, address, now).await?;

    Ok(stricter(verdict(user_failures, now, now, true), verdict(address_failures, now, now, false)))
}

/// Clears the counters after a correct password.
pub async fn record_password_success(state: &AppState, username: &str, address: &str) -> Result<(), outpost_store::StoreError> {
    throttle::reset_password_counters(&state.database, username, address).await
}

/// Decides whether an address may make another request of a kind counted in `scope`
/// (sign-ups hitting a taken address, password reset requests).
pub async fn check_address(state: &AppState, scope: Scope, address: &str) -> Result<Verdict, outpost_store::StoreError> {
    let counter = address_counter(state, scope, address).await?;
    Ok(verdict(counter.failures, counter.last_failure_at, state.now(), false))
}

pub async fn record_address(state: &AppState, scope: Scope, address: &str) -> Result<(), outpost_store::StoreError> {
    throttle::record_failure(&state.database, scope, address, state.now()).await?;
    Ok(())
}

fn stricter(first: Verdict, second: Verdict) -> Verdict {
    match (first, second) {
        (Verdict::Locked, _) | (_, Verdict::Locked) => Verdict::Locked,
        (Verdict::Wait(a), Verdict::Wait(b)) => Verdict::Wait(a.max(b)),
        (Verdict::Wait(a), Verdict::Allowed) | (Verdict::Allowed, Verdict::Wait(a)) => Verdict::Wait(a),
        (Verdict::Allowed, Verdict::Allowed) => Verdict::Allowed,
    }
}
