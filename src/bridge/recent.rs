//! The performance recorder: the last [`RECENT_CAPACITY`] note events Lofi Loom sent to the
//! host, each stamped with its song position, so the editor can export the last bars exactly
//! as they played (phrase changes, knob-driven variation, Follow: Live moves, Thru notes).
//!
//! One writer, one reader, no lock:
//! - the **audio thread** writes each event the host receives into a fixed ring of slots
//!   ([`Recorder::record`]); when the ring is full the oldest event is overwritten. Real-time
//!   safe: a few atomic stores, no allocation (the ring is made by [`Recorder::prepare`], at
//!   activation), no loop;
//! - the **editor** copies the ring out ([`Recorder::snapshot`]). Each slot is a small seqlock:
//!   its stamp says which event (write index + 1) it holds, and is set to [`BUSY`] while the
//!   writer changes it. A copy whose stamp was not the expected one before and after reading
//!   the data is torn or overwritten and is left out; the reader never waits or retries, so a
//!   snapshot is bounded by the capacity.
//!
//! Events are recorded only while the transport plays and reports a song position (an event
//! with no place in the song cannot be cut into bars). Thru notes are recorded like the
//! sequencer's: the file holds what the host received.

use crate::music::phrase::Part;
use atomic_float::AtomicF64;
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::sync::OnceLock;

/// How many events the ring holds: 32 bars of four dense parts with Thru on are a few
/// thousand events; 16 384 leaves room (at 24 bytes a slot, 384 KiB per instance).
pub const RECENT_CAPACITY: usize = 16_384;

/// A slot's stamp while the writer changes it.
const BUSY: u64 = u64::MAX;

/// The value meaning "no position" for [`Recorder::bar_start_beats`] (only finite positions
/// are stored).
const NO_POSITION: f64 = f64::NAN;

/// One note event as the host received it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlayedEvent {
    /// Song position in quarter notes (the host's beats), at the event's sample.
    pub pos_beats: f64,
    /// True for note-on, false for note-off.
    pub on: bool,
    /// MIDI channel 0–15.
    pub channel: u8,
    /// MIDI key 0–127.
    pub key: u8,
    /// Velocity 1–127 for note-ons, 0 for note-offs.
    pub velocity: u8,
    /// The part whose note it is (Thru notes are played on the keys: Chords).
    pub part: Part,
    /// Whether it is a musician's note played through (Thru).
    pub thru: bool,
}

impl PlayedEvent {
    /// Everything but the position in one word: on (bit 0), channel (1–4), key (8–14),
    /// velocity (16–22), part (24–25), thru (26).
    fn pack(&self) -> u64 {
        u64::from(self.on)
            | u64::from(self.channel & 15) << 1
            | u64::from(self.key & 127) << 8
            | u64::from(self.velocity & 127) << 16
            | (self.part as u64 & 3) << 24
            | u64::from(self.thru) << 26
    }

    /// The inverse of [`PlayedEvent::pack`].
    fn unpack(pos_beats: f64, word: u64) -> PlayedEvent {
        let part = match (word >> 24) & 3 {
            0 => Part::Chords,
            1 => Part::Bass,
            2 => Part::Melody,
            _ => Part::Drums,
        };
        PlayedEvent {
            pos_beats,
            on: word & 1 != 0,
            channel: ((word >> 1) & 15) as u8,
            key: ((word >> 8) & 127) as u8,
            velocity: ((word >> 16) & 127) as u8,
            part,
            thru: (word >> 26) & 1 != 0,
        }
    }
}

/// One ring slot (a seqlock; see the module docs).
#[derive(Default)]
struct Slot {
    /// Write index + 1 of the event held, 0 for none, [`BUSY`] while written.
    stamp: AtomicU64,
    /// The position, in quarter notes.
    pos: AtomicF64,
    /// The packed event.
    word: AtomicU64,
}

/// The ring and the latest bar line; see the module docs.
pub struct Recorder {
    /// The slots, made once by [`Recorder::prepare`] (main thread); until then nothing is
    /// recorded.
    slots: OnceLock<Box<[Slot]>>,
    /// How many events were ever written (audio thread; the reader's upper bound).
    written: AtomicU64,
    /// The start of the bar the transport was in at the last playing block, in quarter notes
    /// (audio thread); [`NO_POSITION`] before any.
    bar_start: AtomicF64,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("capacity", &self.capacity())
            .field("written", &self.written.load(Ordering::Relaxed))
            .field("bar_start_beats", &self.bar_start_beats())
            .finish()
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            slots: OnceLock::new(),
            written: AtomicU64::new(0),
            bar_start: AtomicF64::new(NO_POSITION),
        }
    }
}

impl Recorder {
    /// A recorder with no ring yet (cheap).
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// Makes the ring of `capacity` slots, once (later calls keep the first ring). Allocates:
    /// call off the audio thread (at activation).
    pub fn prepare(&self, capacity: usize) {
        self.slots
            .get_or_init(|| (0..capacity.max(1)).map(|_| Slot::default()).collect());
    }

    /// The ring's capacity (0 before [`Recorder::prepare`]).
    pub fn capacity(&self) -> usize {
        self.slots.get().map_or(0, |s| s.len())
    }

    /// Records one event (audio thread only: there must be a single writer). Real-time safe.
    pub fn record(&self, event: &PlayedEvent) {
        let Some(slots) = self.slots.get() else {
            return;
        };
        let index = self.written.load(Ordering::Relaxed);
        let slot = &slots[(index % slots.len() as u64) as usize];
        slot.stamp.store(BUSY, Ordering::Relaxed);
        fence(Ordering::Release);
        slot.pos.store(event.pos_beats, Ordering::Relaxed);
        slot.word.store(event.pack(), Ordering::Relaxed);
        slot.stamp.store(index + 1, Ordering::Release);
        self.written.store(index + 1, Ordering::Release);
    }

    /// Remembers where the bar the transport is in starts, in quarter notes (audio thread).
    pub fn set_bar_start(&self, bar_start_beats: f64) {
        if bar_start_beats.is_finite() {
            self.bar_start.store(bar_start_beats, Ordering::Release);
        }
    }

    /// Where the bar of the last playing block starts, in quarter notes (None before any).
    pub fn bar_start_beats(&self) -> Option<f64> {
        let bar_start_beats = self.bar_start.load(Ordering::Acquire);
        bar_start_beats.is_finite().then_some(bar_start_beats)
    }

    /// Reads the event of write index `index`, if its slot still holds it untorn.
    fn read(&self, slots: &[Slot], index: u64) -> Option<PlayedEvent> {
        let slot = &slots[(index % slots.len() as u64) as usize];
        let before = slot.stamp.load(Ordering::Acquire);
        let pos = slot.pos.load(Ordering::Relaxed);
        let word = slot.word.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        let after = slot.stamp.load(Ordering::Relaxed);
        (before == index + 1 && after == before).then(|| PlayedEvent::unpack(pos, word))
    }

    /// Copies the recorded events into `out` (cleared first), oldest first. Events
    /// overwritten or being written while it reads are left out (only the oldest can be).
    /// Bounded by the capacity; any thread but the writer's.
    pub fn snapshot(&self, out: &mut Vec<PlayedEvent>) {
        out.clear();
        let Some(slots) = self.slots.get() else {
            return;
        };
        let written = self.written.load(Ordering::Acquire);
        let first = written.saturating_sub(slots.len() as u64);
        out.extend((first..written).filter_map(|i| self.read(slots, i)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(i: u32) -> PlayedEvent {
        PlayedEvent {
            pos_beats: f64::from(i) * 0.25,
            on: i.is_multiple_of(2),
            channel: (i % 16) as u8,
            key: (i % 128) as u8,
            velocity: if i.is_multiple_of(2) {
                (i % 127 + 1) as u8
            } else {
                0
            },
            part: [Part::Chords, Part::Bass, Part::Melody, Part::Drums][(i % 4) as usize],
            thru: i.is_multiple_of(3),
        }
    }

    #[test]
    fn nothing_is_recorded_before_prepare() {
        let r = Recorder::new();
        r.record(&event(0));
        let mut out = Vec::new();
        r.snapshot(&mut out);
        assert!(out.is_empty());
        assert_eq!(r.bar_start_beats(), None);
    }

    #[test]
    fn events_come_back_in_order_with_every_field() {
        let r = Recorder::new();
        r.prepare(64);
        for i in 0..40 {
            r.record(&event(i));
        }
        let mut out = Vec::new();
        r.snapshot(&mut out);
        assert_eq!(out, (0..40).map(event).collect::<Vec<_>>());
    }

    #[test]
    fn a_full_ring_overwrites_the_oldest() {
        let r = Recorder::new();
        r.prepare(16);
        for i in 0..53 {
            r.record(&event(i));
        }
        let mut out = Vec::new();
        r.snapshot(&mut out);
        assert_eq!(out, (37..53).map(event).collect::<Vec<_>>());
    }

    #[test]
    fn a_torn_or_overwritten_slot_is_left_out() {
        let r = Recorder::new();
        r.prepare(8);
        for i in 0..8 {
            r.record(&event(i));
        }
        let slots = r.slots.get().unwrap();
        // The writer is half-way through slot 3.
        slots[3].stamp.store(BUSY, Ordering::Relaxed);
        // Slot 5 holds a newer event than the reader's index expects.
        slots[5].stamp.store(14, Ordering::Relaxed);
        let mut out = Vec::new();
        r.snapshot(&mut out);
        let expected: Vec<_> = [0, 1, 2, 4, 6, 7].into_iter().map(event).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn a_reader_racing_the_writer_sees_only_whole_events_in_order() {
        let r = std::sync::Arc::new(Recorder::new());
        r.prepare(32);
        let writer = {
            let r = r.clone();
            std::thread::spawn(move || {
                for i in 0..20_000 {
                    r.record(&event(i));
                }
            })
        };
        let mut out = Vec::new();
        let mut reads = 0;
        while !writer.is_finished() || reads == 0 {
            r.snapshot(&mut out);
            reads += 1;
            let mut last = None;
            for e in &out {
                let i = (e.pos_beats * 4.0) as u32;
                assert_eq!(*e, event(i), "a torn event");
                assert!(last.is_none_or(|l| l < i), "out of order");
                last = Some(i);
            }
        }
        writer.join().unwrap();
        r.snapshot(&mut out);
        assert_eq!(out, (20_000 - 32..20_000).map(event).collect::<Vec<_>>());
    }

    #[test]
    fn the_bar_start_is_kept() {
        let r = Recorder::new();
        r.set_bar_start(12.0);
        r.set_bar_start(f64::NAN);
        assert_eq!(r.bar_start_beats(), Some(12.0));
    }
}
