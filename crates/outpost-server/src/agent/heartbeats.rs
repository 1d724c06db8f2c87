//! Batched heartbeat writes. Handlers queue each heartbeat; one task keeps the latest per
//! collector and writes them in one transaction when the batch is full or a second has
//! passed. On shutdown the queue is drained and written, so no accepted heartbeat is lost.

use std::collections::HashMap;
use std::time::Duration;

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
    sender: mpsc::Sender<HeartbeatWrite>,
}

impl HeartbeatQueue {
    /// Queues a heartbeat; waits while the queue is full. Fails only after shutdown began.
    pub async fn push(&self, heartbeat: HeartbeatWrite) -> Result<(), &'static str> {
        self.sender.send(heartbeat).await.map_err(|_| "the heartbeat writer has stopped")
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

async fn flush(database: &Database, pending: &mut HashMap<String, HeartbeatWrite>) {
    if pending.is_empty() {
        return;
    }
    let batch: Vec<HeartbeatWrite> = pending.values().cloned().collect();
    let oldest = batch.iter().map(|heartbeat| heartbeat.received_at).min().unwrap_or_default();
    let started = std::time::Instant::now();

    match record_heartbeats(database, &batch).await {
        Ok(()) => {
            pending.clear();
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            metrics::counter!("heartbeats_written_total").increment(batch.len() as u64);
            metrics::gauge!("heartbeat_writer_lag_seconds").set((now - oldest) as f64);
            metrics::histogram!("heartbeat_batch_write_seconds").record(started.elapsed().as_secs_f64());
        }
        Err(error) => {
            // Kept for the next flush; newer heartbeats of the same collector replace them.
            tracing::warn!(error = %error, heartbeats = batch.len(), "failed to write heartbeats; retrying at the next flush");
        }
    }
}

async fn run(database: Database, mut receiver: mpsc::Receiver<HeartbeatWrite>, mut stopped: oneshot::Receiver<()>) {
    let mut pending: HashMap<String, HeartbeatWrite> = HashMap::new();
    let mut ticker = tokio::time::interval(FLUSH_INTERVAL);

    loop {
        tokio::select! {
            received = receiver.recv() => match received {
                Some(heartbeat) => {
                    pending.insert(heartbeat.collector_id.clone(), heartbeat);
                    if pending.len() >= MAX_BATCH {
                        flush(&database, &mut pending).await;
                    }
                }
                None => break,
            },
            _ = ticker.tick() => flush(&database, &mut pending).await,
            _ = &mut stopped => break,
        }
    }

    receiver.close();
    while let Some(heartbeat) = receiver.recv().await {
        pending.insert(heartbeat.collector_id.clone(), heartbeat);
    }
    for _ in 0..3 {
        flush(&database, &mut pending).await;
        if pending.is_empty() {
            break;
        }
    }
    if !pending.is_empty() {
        tracing::error!(heartbeats = pending.len(), "heartbeats could not be written at shutdown");
    }
    tracing::info!("heartbeat writer stopped");
}
