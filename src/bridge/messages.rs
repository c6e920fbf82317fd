//! Every message that crosses between the audio thread and the worker, named by direction, with
//! the capacities of the bounded single-producer queues they travel on. Both sides import this
//! module and nothing else of each other.
//!
//! ```text
//!   audio ──AudioToWorker──► worker   one queue: Write requests, and Retired phrases going back
//!                                     to be reused or freed (RETIRE_RESERVE slots kept for them)
//!   worker ──WorkerToAudio──► audio   rendered phrases taken from the worker's pool, or word
//!                                     that a request changed nothing
//! ```
//! Every request carries a serial number and every answer names the newest request it
//! answers, so the audio thread knows whether a phrase is still on its way (an offline render
//! waits for it at the bar line where it is due).
//! The worker only sends phrases from its pool of [`POOL_PHRASES`], plus the phrase installed
//! at activation, so the audio thread never holds more phrases than [`RETIRE_RESERVE`]: a
//! retired phrase always finds room on the way back, and is never freed on the audio thread.
//!
//! The editor talks to the worker with [`EditorToWorker`] through `Views` (neither side is
//! real-time, so that inbox may lock).

use crate::music::harmony::HeardChord;
use crate::music::knobs::Knobs;
use crate::music::phrase::Phrase;
use crate::music::progression::MAX_BARS;
use crate::session::HistoryEntry;
use std::path::PathBuf;

/// Phrases the worker owns and recycles.
pub const POOL_PHRASES: usize = 4;
/// Phrases that can be alive on the audio side at once: the pool, the phrase installed at
/// activation, and slack. The audio-to-worker queue always keeps this many slots for retired
/// phrases.
pub const RETIRE_RESERVE: usize = POOL_PHRASES + 4;
/// Write requests that can wait in the queue beside the reserve; the audio thread retries next
/// block when they are used up.
pub const REQUEST_SLOTS: usize = 16;
/// Capacity of the audio-to-worker queue.
pub const AUDIO_TO_WORKER_CAPACITY: usize = REQUEST_SLOTS + RETIRE_RESERVE;
/// Capacity of the worker-to-audio queue: every pooled phrase, and room for answers without one.
pub const WORKER_TO_AUDIO_CAPACITY: usize = POOL_PHRASES + 4;
/// Editor commands that can wait for the worker; older ones are dropped.
pub const EDITOR_INBOX_CAPACITY: usize = 16;

/// What a write request asks for, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RequestKind {
    /// Play the same progression with new performance settings (swing, parts, velocity…).
    Perform,
    /// Write the progression again with the same seed for new knob values.
    Vary,
    /// Write a new progression with a new seed.
    NewSeed,
}

/// A request for a phrase. Plain data: sending it never allocates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Request {
    /// What to do.
    pub kind: RequestKind,
    /// Parameter values at the time of the request.
    pub knobs: Knobs,
    /// Also write a new drum groove with the next groove seed ("Drums only").
    pub new_groove: bool,
    /// The progression Follow holds captured, bar by bar, for the worker to save with the
    /// session (None: not known to the sender, the saved one stays).
    pub captured: Option<[Option<HeardChord>; MAX_BARS]>,
}

impl Request {
    /// A request of `kind` with `knobs`, keeping the groove seed.
    pub fn new(kind: RequestKind, knobs: Knobs) -> Request {
        Request {
            kind,
            knobs,
            new_groove: false,
            captured: None,
        }
    }

    /// Two requests waiting together become one: the newest knobs, the larger kind, and a new
    /// groove if either asked for one.
    pub fn merge(self, newer: Request) -> Request {
        Request {
            kind: self.kind.max(newer.kind),
            knobs: newer.knobs,
            new_groove: self.new_groove || newer.new_groove,
            captured: newer.captured.or(self.captured),
        }
    }
}

/// From the audio thread to the worker.
#[derive(Debug)]
pub enum AudioToWorker {
    /// Write or re-render a phrase.
    Write {
        /// What to write.
        request: Request,
        /// Its serial number (1, 2, … in the order sent).
        serial: u64,
    },
    /// A phrase the sequencer let go of: reuse it or free it (never on the audio thread).
    Retired(Box<Phrase>),
}

/// From the worker to the audio thread.
#[derive(Debug)]
pub enum WorkerToAudio {
    /// A rendered phrase to queue for its bar line.
    Phrase {
        /// The phrase.
        phrase: Box<Phrase>,
        /// The serial of the newest request it answers (requests waiting together are merged).
        answers: u64,
    },
    /// The requests up to `answers` were served without a new phrase (nothing to play, or the
    /// source failed and said why in the status).
    Unchanged {
        /// The serial of the newest request served.
        answers: u64,
    },
}

/// From the editor to the worker.
#[derive(Debug, Clone, PartialEq)]
pub enum EditorToWorker {
    /// Play a phrase from the history again, exactly (its seed and progression), rendered
    /// with `knobs`.
    Restore {
        /// Its position in the session's history (oldest first).
        index: usize,
        /// The history entry (checked against `index`: the history may have moved on).
        entry: HistoryEntry,
        /// Current parameter values.
        knobs: Knobs,
    },
    /// Use the model in this folder (None: the embedded model), then write a phrase with it.
    /// The choice is saved with the project; a rejected folder leaves the embedded model in
    /// place and says why in the status.
    UseModel {
        /// The folder holding the ONNX graphs and `lofi_loom_model.json`, or None.
        dir: Option<PathBuf>,
        /// Current parameter values.
        knobs: Knobs,
    },
    /// Play an alternative (a candidate not chosen, `Views::alternatives`) next: its seed
    /// writes it at `knobs`; it swaps in as any new phrase does and becomes a history entry.
    UseAlternative {
        /// The alternative's seed.
        seed: u64,
        /// Current parameter values.
        knobs: Knobs,
    },
}

/// The audio thread's ends of the queues. Real-time safe: pushing and popping never allocate.
pub struct AudioEnds {
    /// Requests and retired phrases to the worker.
    to_worker: rtrb::Producer<AudioToWorker>,
    /// Phrases from the worker.
    from_worker: rtrb::Consumer<WorkerToAudio>,
    /// Serial of the last request sent (0: none yet).
    sent: u64,
    /// Serial of the newest request answered.
    answered: u64,
}

/// The worker's ends of the queues.
pub struct WorkerEnds {
    /// Requests and retired phrases from the audio thread.
    pub from_audio: rtrb::Consumer<AudioToWorker>,
    /// Phrases to the audio thread.
    pub to_audio: rtrb::Producer<WorkerToAudio>,
}

/// Makes both queues (allocates: call at activation, never from `process()`).
pub fn channels() -> (AudioEnds, WorkerEnds) {
    let (to_worker, from_audio) = rtrb::RingBuffer::new(AUDIO_TO_WORKER_CAPACITY);
    let (to_audio, from_worker) = rtrb::RingBuffer::new(WORKER_TO_AUDIO_CAPACITY);
    (
        AudioEnds {
            to_worker,
            from_worker,
            sent: 0,
            answered: 0,
        },
        WorkerEnds {
            from_audio,
            to_audio,
        },
    )
}

impl AudioEnds {
    /// Sends a request unless only the retire reserve is left; gives it back if so.
    // A request is plain data (~180 bytes) moved on the audio thread; boxing it to shrink the
    // error would allocate there.
    #[allow(clippy::result_large_err)]
    pub fn request(&mut self, request: Request) -> Result<(), Request> {
        if self.to_worker.slots() <= RETIRE_RESERVE {
            return Err(request);
        }
        let serial = self.sent + 1;
        self.to_worker
            .push(AudioToWorker::Write { request, serial })
            .map_err(|_| request)?;
        self.sent = serial;
        Ok(())
    }

    /// Whether a request sent has not been answered yet (its phrase may still come).
    pub fn awaiting_answer(&self) -> bool {
        self.answered < self.sent
    }

    /// Hands a phrase back to the worker. The reserve means this cannot fail; if it ever did,
    /// the phrase is leaked rather than freed on the audio thread.
    pub fn retire(&mut self, phrase: Box<Phrase>) {
        if let Err(rtrb::PushError::Full(message)) =
            self.to_worker.push(AudioToWorker::Retired(phrase))
        {
            std::mem::forget(message);
        }
    }

    /// The next phrase from the worker, if one arrived (answers without a phrase are taken on
    /// the way).
    pub fn next_phrase(&mut self) -> Option<Box<Phrase>> {
        while let Ok(message) = self.from_worker.pop() {
            match message {
                WorkerToAudio::Phrase { phrase, answers } => {
                    self.answered = self.answered.max(answers);
                    return Some(phrase);
                }
                WorkerToAudio::Unchanged { answers } => {
                    self.answered = self.answered.max(answers);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request::new(RequestKind::Vary, Knobs::default())
    }

    #[test]
    fn requests_never_take_the_slots_kept_for_retired_phrases() {
        let (mut audio, mut worker) = channels();
        let mut sent = 0;
        while audio.request(request()).is_ok() {
            sent += 1;
        }
        assert_eq!(sent, REQUEST_SLOTS);
        for _ in 0..RETIRE_RESERVE {
            audio.retire(Box::new(Phrase::new(1)));
        }
        let mut retired = 0;
        let mut serials = Vec::new();
        while let Ok(message) = worker.from_audio.pop() {
            match message {
                AudioToWorker::Write { serial, .. } => serials.push(serial),
                AudioToWorker::Retired(_) => retired += 1,
            }
        }
        assert_eq!(retired, RETIRE_RESERVE);
        let expected: Vec<u64> = (1..=REQUEST_SLOTS as u64).collect();
        assert_eq!(serials, expected);
    }

    #[test]
    fn a_request_awaits_its_answer_with_or_without_a_phrase() {
        let (mut audio, mut worker) = channels();
        assert!(!audio.awaiting_answer());
        audio.request(request()).unwrap();
        audio.request(request()).unwrap();
        assert!(audio.awaiting_answer());
        // The first request changed nothing: still awaiting the second.
        worker
            .to_audio
            .push(WorkerToAudio::Unchanged { answers: 1 })
            .unwrap();
        assert!(audio.next_phrase().is_none());
        assert!(audio.awaiting_answer());
        // One phrase answers both (they were merged).
        worker
            .to_audio
            .push(WorkerToAudio::Phrase {
                phrase: Box::new(Phrase::new(1)),
                answers: 2,
            })
            .unwrap();
        assert!(audio.next_phrase().is_some());
        assert!(!audio.awaiting_answer());
    }

    #[test]
    fn merged_requests_keep_the_newest_knobs_and_the_larger_kind() {
        let mut newer = request();
        newer.kind = RequestKind::Perform;
        newer.knobs.energy = 0.9;
        let older = Request {
            kind: RequestKind::NewSeed,
            ..request()
        };
        let merged = older.merge(newer);
        assert_eq!(merged.kind, RequestKind::NewSeed);
        assert_eq!(merged.knobs.energy, 0.9);
    }
}
