//! The audio thread's side of regeneration: watches the parameters, the Regenerate switch, the
//! restored session and the phrase loop, and decides when to ask the worker for a phrase.
//!
//! Knob moves are rate-limited ([`MIN_REQUEST_INTERVAL_S`]) so automation sends a steady
//! trickle of requests with the same seed instead of one per block; the final value is always
//! sent. Plain data only: real-time safe.

use crate::bridge::messages::{Request, RequestKind};
use crate::music::knobs::Knobs;

/// Shortest time between two requests caused by moving knobs, in seconds.
pub const MIN_REQUEST_INTERVAL_S: f64 = 0.05;

/// When the plugin writes a new phrase by itself (the Regenerate mode parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegenerateMode {
    /// Only when Regenerate is pressed.
    Manual,
    /// A new phrase (new seed) every time the current one ends.
    EveryPhrase,
    /// When Energy or Valence move (same seed, so the music evolves instead of jumping).
    #[default]
    KnobMoves,
}

/// What the requester looks at each block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControlInputs {
    /// Current parameter values.
    pub knobs: Knobs,
    /// The Regenerate switch (any flip regenerates).
    pub regenerate: bool,
    /// The Drums only switch (any flip writes a new groove and keeps the rest).
    pub regenerate_drums: bool,
    /// When new phrases are written without pressing Regenerate.
    pub regenerate_mode: RegenerateMode,
    /// How many sessions the host has restored.
    pub restored: u64,
    /// Which repetition of the phrase loop is playing (None when stopped).
    pub phrase_loop: Option<i64>,
}

/// Decides when to send requests; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct Requester {
    /// Inputs at the previous block (None before the first).
    last: Option<ControlInputs>,
    /// What has changed and not been sent yet.
    dirty: Option<RequestKind>,
    /// Whether a new groove was asked for and not sent yet.
    dirty_groove: bool,
    /// Samples since the last request was sent.
    since_sent_samples: f64,
}

impl Requester {
    /// Starts watching from `inputs` without asking for anything (activation has just
    /// rendered the session).
    pub fn reset(&mut self, inputs: ControlInputs) {
        self.last = Some(inputs);
        self.dirty = None;
        self.dirty_groove = false;
        self.since_sent_samples = f64::INFINITY;
    }

    /// Looks at one block's inputs; returns a request when one is due.
    pub fn tick(
        &mut self,
        inputs: ControlInputs,
        block_samples: u32,
        sample_rate: f64,
    ) -> Option<Request> {
        self.since_sent_samples += block_samples as f64;
        let last = self.last.replace(inputs)?;
        let mut urgent = Self::urgent_change(&last, &inputs);
        if inputs.regenerate_drums != last.regenerate_drums {
            self.dirty_groove = true;
            urgent = urgent.or(Some(RequestKind::Perform));
        }
        if let Some(kind) = urgent.or_else(|| Self::knob_change(&last, &inputs)) {
            self.dirty = self.dirty.max(Some(kind));
        }
        let interval = MIN_REQUEST_INTERVAL_S * sample_rate.max(1.0);
        let kind = self.dirty?;
        if urgent.is_none() && self.since_sent_samples < interval {
            return None;
        }
        self.dirty = None;
        self.since_sent_samples = 0.0;
        let new_groove = std::mem::take(&mut self.dirty_groove);
        Some(Request {
            new_groove,
            ..Request::new(kind, inputs.knobs)
        })
    }

    /// Puts back a request the queue had no room for; it goes out with the next tick.
    pub fn put_back(&mut self, request: Request) {
        self.dirty = self.dirty.max(Some(request.kind));
        self.dirty_groove |= request.new_groove;
        self.since_sent_samples = f64::INFINITY;
    }

    /// Changes served at once: Regenerate, a restored session, a new loop in "every phrase".
    fn urgent_change(last: &ControlInputs, now: &ControlInputs) -> Option<RequestKind> {
        let new_loop = now.regenerate_mode == RegenerateMode::EveryPhrase
            && now.phrase_loop.is_some()
            && last.phrase_loop.is_some()
            && now.phrase_loop != last.phrase_loop;
        if now.regenerate != last.regenerate || new_loop {
            Some(RequestKind::NewSeed)
        } else if now.restored != last.restored {
            Some(RequestKind::Perform)
        } else {
            None
        }
    }

    /// Knob changes: what they ask for depends on the knob and the Regenerate mode.
    fn knob_change(last: &ControlInputs, now: &ControlInputs) -> Option<RequestKind> {
        let (a, b) = (&last.knobs, &now.knobs);
        // The locks only shape the next phrase written; switching one asks for nothing.
        let same_but_locks = Knobs {
            lock_chords: b.lock_chords,
            lock_rhythm: b.lock_rhythm,
            lock_drums: b.lock_drums,
            ..*a
        } == *b;
        if same_but_locks {
            return None;
        }
        let mood_moved = a.energy != b.energy || a.valence != b.valence;
        let shape_changed = a.bars != b.bars
            || a.key != b.key
            || a.mode != b.mode
            || a.heard_chords != b.heard_chords;
        if shape_changed || (mood_moved && now.regenerate_mode == RegenerateMode::KnobMoves) {
            Some(RequestKind::Vary)
        } else {
            Some(RequestKind::Perform)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> ControlInputs {
        ControlInputs {
            knobs: Knobs::default(),
            regenerate: false,
            regenerate_drums: false,
            regenerate_mode: RegenerateMode::Manual,
            restored: 0,
            phrase_loop: Some(0),
        }
    }

    const RATE: f64 = 48_000.0;

    #[test]
    fn nothing_changes_nothing_is_sent() {
        let mut r = Requester::default();
        r.reset(inputs());
        for _ in 0..100 {
            assert_eq!(r.tick(inputs(), 512, RATE), None);
        }
    }

    #[test]
    fn regenerate_flip_asks_for_a_new_seed_at_once() {
        let mut r = Requester::default();
        r.reset(inputs());
        let flipped = ControlInputs {
            regenerate: true,
            ..inputs()
        };
        assert_eq!(
            r.tick(flipped, 64, RATE).map(|q| q.kind),
            Some(RequestKind::NewSeed)
        );
        // Flipping back is another press.
        assert_eq!(
            r.tick(inputs(), 64, RATE).map(|q| q.kind),
            Some(RequestKind::NewSeed)
        );
    }

    #[test]
    fn knob_moves_are_rate_limited_and_the_last_value_is_sent() {
        let mut r = Requester::default();
        r.reset(inputs());
        let mut sent = Vec::new();
        // Energy automated every block for 0.2 s (512-sample blocks: 10.7 ms each).
        for i in 1..=19 {
            let mut now = inputs();
            now.regenerate_mode = RegenerateMode::KnobMoves;
            now.knobs.energy = 0.5 + i as f32 * 0.01;
            if let Some(q) = r.tick(now, 512, RATE) {
                sent.push((i, q.kind, q.knobs.energy));
            }
        }
        // First move goes out at once, then one every ≥ 50 ms (5 blocks).
        let blocks: Vec<_> = sent.iter().map(|s| s.0).collect();
        assert_eq!(blocks, [1, 6, 11, 16]);
        assert!(sent.iter().all(|s| s.1 == RequestKind::Vary));
        // The final value follows once the interval has passed.
        let mut last = inputs();
        last.regenerate_mode = RegenerateMode::KnobMoves;
        last.knobs.energy = 0.5 + 19.0 * 0.01;
        let mut tail = None;
        for _ in 0..5 {
            tail = tail.or(r.tick(last, 512, RATE));
        }
        assert_eq!(tail.map(|q| q.knobs.energy), Some(last.knobs.energy));
    }

    #[test]
    fn switching_a_lock_asks_for_nothing() {
        let mut r = Requester::default();
        r.reset(inputs());
        let mut now = inputs();
        now.knobs.lock_chords = true;
        now.knobs.lock_rhythm = true;
        for _ in 0..10 {
            assert_eq!(r.tick(now, 64, RATE), None);
        }
    }

    #[test]
    fn in_manual_mode_energy_only_changes_the_performance() {
        let mut r = Requester::default();
        r.reset(inputs());
        let mut now = inputs();
        now.knobs.energy = 0.9;
        assert_eq!(
            r.tick(now, 64, RATE).map(|q| q.kind),
            Some(RequestKind::Perform)
        );
        now.knobs.bars = 8;
        let mut got = None;
        for _ in 0..100 {
            got = got.or(r.tick(now, 64, RATE));
        }
        assert_eq!(got.map(|q| q.kind), Some(RequestKind::Vary));
    }

    #[test]
    fn every_phrase_mode_asks_for_a_new_seed_on_each_loop() {
        let mut r = Requester::default();
        let mut now = ControlInputs {
            regenerate_mode: RegenerateMode::EveryPhrase,
            ..inputs()
        };
        r.reset(now);
        assert_eq!(r.tick(now, 64, RATE), None);
        now.phrase_loop = Some(1);
        assert_eq!(
            r.tick(now, 64, RATE).map(|q| q.kind),
            Some(RequestKind::NewSeed)
        );
        now.phrase_loop = None; // stopped
        assert_eq!(r.tick(now, 64, RATE), None);
    }

    #[test]
    fn a_restored_session_is_performed_and_a_refused_push_is_retried() {
        let mut r = Requester::default();
        r.reset(inputs());
        let now = ControlInputs {
            restored: 1,
            ..inputs()
        };
        let q = r.tick(now, 64, RATE).expect("request");
        assert_eq!(q.kind, RequestKind::Perform);
        r.put_back(q);
        assert_eq!(r.tick(now, 64, RATE), Some(q));
    }

    #[test]
    fn drums_only_asks_for_a_new_groove_at_once_and_merges_into_what_is_dirty() {
        let mut r = Requester::default();
        r.reset(inputs());
        let flipped = ControlInputs {
            regenerate_drums: true,
            ..inputs()
        };
        let q = r.tick(flipped, 64, RATE).expect("a request at once");
        assert_eq!((q.kind, q.new_groove), (RequestKind::Perform, true));
        // Nothing more until the next flip; a refused push keeps the new groove.
        assert_eq!(r.tick(flipped, 64, RATE), None);
        r.put_back(q);
        let again = r.tick(flipped, 64, RATE).expect("retried");
        assert!(again.new_groove);
        // A knob move that follows is a plain variation: the groove seed stays.
        let mut moved = flipped;
        moved.regenerate_mode = RegenerateMode::KnobMoves;
        moved.knobs.energy = 0.8;
        let mut got = None;
        for _ in 0..100 {
            got = got.or(r.tick(moved, 64, RATE));
        }
        let got = got.expect("a variation");
        assert_eq!((got.kind, got.new_groove), (RequestKind::Vary, false));
    }

    #[test]
    fn switching_lock_drums_asks_for_nothing() {
        let mut r = Requester::default();
        r.reset(inputs());
        let mut now = inputs();
        now.knobs.lock_drums = true;
        for _ in 0..10 {
            assert_eq!(r.tick(now, 64, RATE), None);
        }
    }
}
