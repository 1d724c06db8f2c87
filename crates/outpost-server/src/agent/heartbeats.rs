//! Batched heartbeat writes. Handlers queue each heartbeat; one task keeps the latest per
//! collector and writes them in one transaction when the batch is full or a second has
//! passed, while it goes on taking heartbeats from the queue. On shutdown the queue is
//! drained and written, so no accepted heartbeat is lost.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::{Duration, Instant};

use outpost_store::Database;
use outpost_store::collectors::{HeartbeatWrite, record_heartbeats};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Queue capacity; a full queue makes handlers wait instead of dropping heartbeats.
const QUEUE_CAPACITY: usize = 16_384;
/// Collectors per write.
const MAX_BATCH: usize = 10_000;
/// Longest time a heartbeat waits in memory before its write starts.
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct HeartbeatQueue {
    sender: mpsc::Sender<Queued>,
}

impl HeartbeatQueue {
    /// Queues a heartbeat; waits while the queue is full. Fails only after shutdown began.
    pub async fn push(&self, heartbeat: HeartbeatWrite) -> Result<(), &'static str> {
        self.sender.send(Queued { heartbeat, queued_at: Instant::now() }).await.map_err(|_| "the heartbeat writer has stopped")
    }
}

/// The running writer: stopping it writes everything still queued.
pub struct HeartbeatWriter {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl HeartbeatWriter {
    pub fn start(database: Database) -> (HeartbeatQueue, Self) {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(run(database, receiver, stopped));
        (HeartbeatQueue { sender }, Self { stop, task })
    }

    /// Writes the queued heartbeats and ends the task.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(error) = self.task.await {
            tracing::error!(error = %error, "heartbeat writer task failed");
        }
    }
}

/// Pending heartbeats at most. While a write runs and this many wait, the writer stops
/// taking heartbeats from the queue, so handlers wait once the queue is full too.
const MAX_PENDING: usize = 2 * MAX_BATCH;

/// Heartbeats taken from the queue in one step.
const RECEIVE_AT_ONCE: usize = 1024;

/// A heartbeat with the moment it was queued, from which the writer lag is measured.
struct Queued {
    heartbeat: HeartbeatWrite,
    queued_at: Instant,
}

type Pending = HashMap<String, Queued>;

/// A batch whose write failed, and when its oldest heartbeat was queued.
struct Failed {
    batch: Vec<HeartbeatWrite>,
    oldest: Instant,
}

/// Writes one batch, sorted by collector so that the database visits its pages in order.
/// Sets the writer lag: how long the oldest heartbeat of the batch waited until its write
/// was committed.
async fn write_batch(database: Database, queued: Vec<Queued>) -> Result<(), Failed> {
    let oldest = queued.iter().map(|entry| entry.queued_at).min().unwrap_or_else(Instant::now);
    let mut batch: Vec<HeartbeatWrite> = queued.into_iter().map(|entry| entry.heartbeat).collect();
    batch.sort_unstable_by(|left, right| left.collector_id.cmp(&right.collector_id));
    let started = Instant::now();

    match record_heartbeats(&database, &batch).await {
        Ok(()) => {
            metrics::counter!("heartbeats_written_total").increment(batch.len() as u64);
            metrics::histogram!("heartbeat_writer_lag_seconds").record(oldest.elapsed().as_secs_f64());
            metrics::histogram!("heartbeat_batch_write_seconds").record(started.elapsed().as_secs_f64());
            Ok(())
        }
        Err(error) => {
            tracing::warn!(error = %error, heartbeats = batch.len(), "failed to write heartbeats; retrying at the next flush");
            Err(Failed { batch, oldest })
        }
    }
}

/// Puts a failed batch back, except where a newer heartbeat of the same collector arrived.
fn restore(pending: &mut Pending, failed: Failed) {
    for heartbeat in failed.batch {
        pending.entry(heartbeat.collector_id.clone()).or_insert(Queued { heartbeat, queued_at: failed.oldest });
    }
}

/// Handles the outcome of a write task: a failed batch goes back to `pending`.
fn finish_write(pending: &mut Pending, written: Result<Result<(), Failed>, tokio::task::JoinError>) {
    match written {
        Ok(Ok(())) => {}
        Ok(Err(failed)) => restore(pending, failed),
        Err(error) => tracing::error!(error = %error, "heartbeat write task failed"),
    }
}

/// Keeps the newest heartbeat of a collector, queued when its oldest unwritten one was. Of
/// two heartbeats that arrive out of order, the one received later stays.
fn insert(pending: &mut Pending, entry: Queued) {
    match pending.entry(entry.heartbeat.collector_id.clone()) {
        Entry::Occupied(mut occupied) => {
            if entry.heartbeat.received_at >= occupied.get().heartbeat.received_at {
                occupied.get_mut().heartbeat = entry.heartbeat;
            }
        }
        Entry::Vacant(vacant) => {
            vacant.insert(entry);
        }
    }
}

/// Takes up to `MAX_BATCH` pending heartbeats, those queued first, so that none waits for
/// more than one write behind newer ones.
fn take_batch(pending: &mut Pending) -> Vec<Queued> {
    if pending.len() <= MAX_BATCH {
        return pending.drain().map(|(_, entry)| entry).collect();
    }
    let mut by_age: Vec<(Instant, &String)> = pending.iter().map(|(key, entry)| (entry.queued_at, key)).collect();
    by_age.select_nth_unstable_by_key(MAX_BATCH - 1, |(queued_at, _)| *queued_at);
    let keys: Vec<String> = by_age[..MAX_BATCH].iter().map(|(_, key)| (*key).clone()).collect();
    keys.iter().filter_map(|key| pending.remove(key)).collect()
}

/// Receives heartbeats and writes them in batches, one write at a time. Heartbeats keep
/// arriving while a batch is written, so a write does not stall the handlers unless
/// `MAX_PENDING` heartbeats are waiting.
async fn run(database: Database, mut receiver: mpsc::Receiver<Queued>, mut stopped: oneshot::Receiver<()>) {
    let mut pending: Pending = HashMap::new();
    let mut ticker = tokio::time::interval(FLUSH_INTERVAL);
    let mut writing: Option<JoinHandle<Result<(), Failed>>> = None;
    let mut due = false;
    let mut arrived = Vec::with_capacity(RECEIVE_AT_ONCE);

    loop {
        if writing.is_none() && !pending.is_empty() && (due || pending.len() >= MAX_BATCH) {
            writing = Some(tokio::spawn(write_batch(database.clone(), take_batch(&mut pending))));
            due = false;
        }

        tokio::select! {
            received = receiver.recv_many(&mut arrived, RECEIVE_AT_ONCE), if pending.len() < MAX_PENDING => {
                if received == 0 {
                    break;
                }
                for entry in arrived.drain(..) {
                    insert(&mut pending, entry);
                }
            },
            written = async {
                match writing.as_mut() {
                    Some(task) => task.await,
                    None => std::future::pending().await,
                }
            } => {
                writing = None;
                finish_write(&mut pending, written);
            },
            _ = ticker.tick() => due = true,
            _ = &mut stopped => break,
        }
    }

    if let Some(task) = writing.take() {
        finish_write(&mut pending, task.await);
    }
    receiver.close();
    while let Some(entry) = receiver.recv().await {
        insert(&mut pending, entry);
    }
    let mut failures = 0;
    while !pending.is_empty() && failures < 3 {
        if let Err(failed) = write_batch(database.clone(), take_batch(&mut pending)).await {
            restore(&mut pending, failed);
            failures += 1;
        }
    }
    if !pending.is_empty() {
        tracing::error!(heartbeats = pending.len(), "heartbeats could not be written at shutdown");
    }
    tracing::info!("heartbeat writer stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(collector_id: &str, uptime_seconds: i64, queued_at: Instant) -> Queued {
        let heartbeat = HeartbeatWrite {
            collector_id: collector_id.to_owned(),
            received_at: 1_700_000_000,
            version: "1.0.0".to_owned(),
            local_ip: "192.0.2.1".to_owned(),
            mac: "02:00:00:00:00:01".to_owned(),
            uptime_seconds,
        };
        Queued { heartbeat, queued_at }
    }

    #[test]
    fn insert_keeps_newest_and_first_time() {
        let first = Instant::now();
        let mut pending = Pending::new();
        insert(&mut pending, queued("c1", 10, first));
        insert(&mut pending, queued("c1", 70, first + Duration::from_secs(1)));

        assert_eq!(pending.len(), 1);
        let entry = &pending["c1"];
        assert_eq!(entry.heartbeat.uptime_seconds, 70, "the newest report is written");
        assert_eq!(entry.queued_at, first, "the lag counts from the first unwritten heartbeat");
    }

    #[test]
    fn insert_ignores_earlier_heartbeat() {
        let now = Instant::now();
        let mut pending = Pending::new();
        let mut later = queued("c1", 70, now);
        later.heartbeat.received_at += 60;
        insert(&mut pending, later);
        insert(&mut pending, queued("c1", 10, now));

        assert_eq!(pending["c1"].heartbeat.uptime_seconds, 70);
    }

    #[test]
    fn batch_takes_oldest_first() {
        let start = Instant::now();
        let mut pending = Pending::new();
        // Inserted newest first, so that the map's order cannot hand out the oldest by chance.
        for index in (0..MAX_BATCH + 5).rev() {
            let at = start + Duration::from_millis(u64::try_from(index).unwrap_or_default());
            insert(&mut pending, queued(&format!("c{index}"), 1, at));
        }

        let batch = take_batch(&mut pending);

        assert_eq!(batch.len(), MAX_BATCH);
        let mut left: Vec<&String> = pending.keys().collect();
        left.sort();
        let newest: Vec<String> = (MAX_BATCH..MAX_BATCH + 5).map(|index| format!("c{index}")).collect();
        assert_eq!(left, newest.iter().collect::<Vec<_>>(), "the five newest wait for the next write");
    }

    #[test]
    fn small_batch_takes_everything() {
        let now = Instant::now();
        let mut pending = Pending::new();
        insert(&mut pending, queued("c1", 1, now));
        insert(&mut pending, queued("c2", 1, now));

        assert_eq!(take_batch(&mut pending).len(), 2);
        assert!(pending.is_empty());
    }

    #[test]
    fn restore_keeps_newer_heartbeats() {
        let then = Instant::now();
        let mut pending = Pending::new();
        insert(&mut pending, queued("c1", 99, then + Duration::from_secs(2)));
        let failed = Failed {
            batch: vec![queued("c1", 5, then).heartbeat, queued("c2", 5, then).heartbeat],
            oldest: then,
        };

        restore(&mut pending, failed);

        assert_eq!(pending["c1"].heartbeat.uptime_seconds, 99, "the newer heartbeat stays");
        assert_eq!(pending["c2"].heartbeat.uptime_seconds, 5);
        assert_eq!(pending["c2"].queued_at, then);
    }
}
