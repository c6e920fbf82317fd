//! [`Phrase`]: the timed notes the sequencer plays, in beats, with a fixed capacity.
//!
//! A phrase is built on the worker thread (or by the CLI) with [`Phrase::push`] and sealed with
//! [`Phrase::finish`], which clips notes to the phrase and builds the sorted list of note-on and
//! note-off [`Edge`]s the sequencer walks. Its storage is allocated once by [`Phrase::new`] and
//! never grows, so a phrase can be reused from a pool and handed to the audio thread.

use crate::music::progression::BEATS_PER_BAR;

/// Most notes a phrase holds: 8 bars of 6-note chords, bass and an eighth-note melody (at most
/// 120), plus the densest drum groove a saved session can hold (8 bars × 16 steps × 9 sounds).
pub const MAX_NOTES: usize = 1536;

/// Which part a note belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    // Explicit values: humanize draws one random stream per part from these, so reordering
    // would change what a saved seed sounds like.
    /// The voiced chords.
    Chords = 0,
    /// The bass line (chord roots).
    Bass = 1,
    /// The melody.
    Melody = 2,
    /// The drums (General MIDI keys by default).
    Drums = 3,
}

/// One note of a phrase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Note {
    /// Onset in quarter-note beats from the phrase start (phrase bars are 4/4).
    pub start_beats: f64,
    /// Duration in quarter-note beats.
    pub len_beats: f64,
    /// MIDI key, 0–127.
    pub key: u8,
    /// MIDI velocity, 1–127.
    pub velocity: u8,
    /// MIDI channel, 0–15 (shown to users as 1–16).
    pub channel: u8,
    /// The part the note plays.
    pub part: Part,
}

/// A note-on or note-off at a position in the phrase, in bars (1.0 = one bar).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    /// Position in bars from the phrase start, in `0.0..=bars`.
    pub pos_bars: f64,
    /// True for a note-on, false for a note-off.
    pub on: bool,
    /// MIDI key.
    pub key: u8,
    /// MIDI velocity (note-ons; 0 for note-offs).
    pub velocity: u8,
    /// MIDI channel 0–15.
    pub channel: u8,
    /// The part the note plays (which built-in instrument sounds it).
    pub part: Part,
}

/// Timed notes plus their length in bars; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Phrase {
    /// Which rendering this is (matches the editor's view of it; 0 = none given).
    id: u64,
    /// Length in bars (1–8); the sequencer loops over it.
    bars: u32,
    /// The notes, in the order they were pushed.
    notes: Vec<Note>,
    /// Note-ons and note-offs sorted by position, note-offs first at equal positions.
    edges: Vec<Edge>,
}

impl Phrase {
    /// An empty phrase of `bars` bars with room for [`MAX_NOTES`] notes. Allocates.
    pub fn new(bars: u32) -> Phrase {
        Phrase {
            id: 0,
            bars: bars.max(1),
            notes: Vec::with_capacity(MAX_NOTES),
            edges: Vec::with_capacity(2 * MAX_NOTES),
        }
    }

    /// Empties the phrase for reuse, keeping its storage.
    pub fn clear(&mut self, bars: u32) {
        self.id = 0;
        self.bars = bars.max(1);
        self.notes.clear();
        self.edges.clear();
    }

    /// Which rendering this is (see [`crate::bridge::views`]); 0 until one is given.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Gives the phrase its id.
    pub fn set_id(&mut self, id: u64) {
        self.id = id;
    }

    /// Length in bars.
    pub fn bars(&self) -> u32 {
        self.bars
    }

    /// Length in quarter-note beats.
    pub fn len_beats(&self) -> f64 {
        (self.bars * BEATS_PER_BAR) as f64
    }

    /// The notes, in the order they were pushed (clipped by [`Phrase::finish`]).
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// The sorted note-on/off edges built by [`Phrase::finish`].
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }

    /// Adds a note. Returns false (and drops it) when the phrase is full.
    pub fn push(&mut self, note: Note) -> bool {
        if self.notes.len() >= MAX_NOTES {
            return false;
        }
        self.notes.push(note);
        true
    }

    /// Clips notes to the phrase (a note never rings past the loop point), drops empty or
    /// out-of-range ones, and builds the sorted edge list.
    pub fn finish(&mut self) {
        let end = self.len_beats();
        self.notes.retain_mut(|n| {
            let start = n.start_beats.max(0.0);
            let stop = (n.start_beats + n.len_beats).min(end);
            n.start_beats = start;
            n.len_beats = stop - start;
            n.start_beats.is_finite()
                && n.len_beats.is_finite()
                && n.len_beats > 1e-6
                && n.key < 128
        });
        for n in &mut self.notes {
            n.velocity = n.velocity.clamp(1, 127);
            n.channel = n.channel.min(15);
        }
        self.edges.clear();
        let per_bar = BEATS_PER_BAR as f64;
        for n in &self.notes {
            let base = Edge {
                pos_bars: 0.0,
                on: true,
                key: n.key,
                velocity: n.velocity,
                channel: n.channel,
                part: n.part,
            };
            self.edges.push(Edge {
                pos_bars: n.start_beats / per_bar,
                ..base
            });
            self.edges.push(Edge {
                pos_bars: (n.start_beats + n.len_beats) / per_bar,
                on: false,
                velocity: 0,
                ..base
            });
        }
        // Unstable sort: never allocates, and the key orders every field that differs.
        self.edges.sort_unstable_by(|a, b| {
            a.pos_bars
                .total_cmp(&b.pos_bars)
                .then(a.on.cmp(&b.on))
                .then(a.channel.cmp(&b.channel))
                .then(a.key.cmp(&b.key))
                .then(a.velocity.cmp(&b.velocity))
                .then(a.part.cmp(&b.part))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(start: f64, len: f64, key: u8) -> Note {
        Note {
            start_beats: start,
            len_beats: len,
            key,
            velocity: 100,
            channel: 0,
            part: Part::Melody,
        }
    }

    #[test]
    fn finish_clips_sorts_and_puts_offs_first() {
        let mut p = Phrase::new(1);
        p.push(note(2.0, 4.0, 62)); // rings past the end: clipped to 2 beats
        p.push(note(0.0, 2.0, 60));
        p.push(note(4.5, 1.0, 61)); // starts after the end: dropped
        p.push(note(2.0, 0.0, 63)); // empty: dropped
        p.finish();
        assert_eq!(p.notes().len(), 2);
        let e: Vec<_> = p
            .edges()
            .iter()
            .map(|e| (e.pos_bars, e.on, e.key))
            .collect();
        assert_eq!(
            e,
            [
                (0.0, true, 60),
                (0.5, false, 60),
                (0.5, true, 62),
                (1.0, false, 62)
            ]
        );
    }

    #[test]
    fn capacity_is_fixed() {
        let mut p = Phrase::new(8);
        for i in 0..MAX_NOTES {
            assert!(p.push(note(i as f64 * 0.01, 0.01, 60)));
        }
        assert!(!p.push(note(0.0, 1.0, 60)));
        let cap = p.notes.capacity();
        p.finish();
        assert_eq!(p.notes.capacity(), cap);
    }
}
