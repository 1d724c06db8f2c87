//! The agent API under `/agent/v1`: activation with a one-time key, then heartbeats,
//! inventory uploads and configuration fetches with the collector's bearer credential. JSON
//! in and out; errors are RFC 9457 problem details.

pub mod credentials;
pub mod handlers;
pub mod heartbeats;
pub mod problem;
