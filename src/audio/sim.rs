//! A simulated host: a transport that advances sample by sample like a DAW's, and a recorder
//! that keeps what the sequencer emits with absolute sample positions.
//!
//! The CLI renders `.mid` files by driving the real [`Sequencer`] through this, so an exported
//! file holds exactly what the plugin plays; the tests use it to script transports (loops,
//! seeks, stops, tempo and time-signature changes, jitter, odd block sizes).

use crate::audio::sequencer::{MidiEvent, Sequencer, SequencerOutput, TransportSnapshot};
use crate::music::phrase::Phrase;

/// A host transport that knows its position in samples and derives beats from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimTransport {
    /// Sample rate in Hz.
    pub sample_rate: f64,
    /// Tempo in BPM (constant since `tempo_origin_samples`).
    pub tempo_bpm: f64,
    /// Time signature (numerator, denominator).
    pub time_sig: (i32, i32),
    /// Whether the transport runs.
    pub playing: bool,
    /// Song position of the next block, in samples.
    pub pos_samples: i64,
    /// Active loop, in quarter notes (end exclusive); the transport wraps inside blocks, as
    /// hosts that do not split blocks at the loop point do.
    pub loop_range_beats: Option<(f64, f64)>,
    /// Position in beats at `tempo_origin_samples` (tempo changes keep beats continuous).
    beats_at_origin: f64,
    /// The sample position where the current tempo took effect.
    tempo_origin_samples: i64,
}

impl SimTransport {
    /// A stopped transport at the song start.
    pub fn new(sample_rate: f64, tempo_bpm: f64) -> SimTransport {
        SimTransport {
            sample_rate,
            tempo_bpm,
            time_sig: (4, 4),
            playing: false,
            pos_samples: 0,
            loop_range_beats: None,
            beats_at_origin: 0.0,
            tempo_origin_samples: 0,
        }
    }

    /// Samples per quarter note at the current tempo.
    pub fn samples_per_beat(&self) -> f64 {
        self.sample_rate * 60.0 / self.tempo_bpm
    }

    /// Position of sample `pos_samples` in quarter notes.
    pub fn beats_at(&self, pos_samples: i64) -> f64 {
        self.beats_at_origin
            + (pos_samples - self.tempo_origin_samples) as f64 / self.samples_per_beat()
    }

    /// Changes the tempo from the current position on.
    pub fn set_tempo(&mut self, tempo_bpm: f64) {
        self.beats_at_origin = self.beats_at(self.pos_samples);
        self.tempo_origin_samples = self.pos_samples;
        self.tempo_bpm = tempo_bpm;
    }

    /// Jumps to a position in quarter notes (a seek), keeping the tempo.
    pub fn seek_beats(&mut self, beats: f64) {
        self.beats_at_origin = beats;
        self.tempo_origin_samples = self.pos_samples;
    }

    /// What a host reports for a block starting at the current position.
    pub fn snapshot(&self) -> TransportSnapshot {
        let pos_beats = self.beats_at(self.pos_samples);
        let bar_len = self.time_sig.0 as f64 * 4.0 / self.time_sig.1 as f64;
        let bar = (pos_beats / bar_len).floor();
        TransportSnapshot {
            playing: self.playing,
            sample_rate: self.sample_rate,
            tempo_bpm: Some(self.tempo_bpm),
            pos_beats: Some(pos_beats),
            time_sig: Some(self.time_sig),
            bar_start_pos_beats: Some(bar * bar_len),
            bar_number: Some(bar as i32),
            loop_range_beats: self.loop_range_beats,
        }
    }

    /// Moves on by one block, wrapping at the loop end like a host does.
    pub fn advance(&mut self, block_samples: u32) {
        if !self.playing {
            return;
        }
        let end = self.pos_samples + block_samples as i64;
        if let Some((loop_start, loop_end)) = self.loop_range_beats {
            let spb = self.samples_per_beat();
            let start_beats = self.beats_at(self.pos_samples);
            let end_beats = self.beats_at(end);
            let to_end = ((loop_end - start_beats) * spb - 1e-4).ceil() as i64;
            if start_beats < loop_end
                && end_beats >= loop_end - 1e-12
                && to_end <= block_samples as i64
            {
                let after_wrap = block_samples as i64 - to_end;
                self.pos_samples = end;
                self.beats_at_origin = loop_start + after_wrap as f64 / spb;
                self.tempo_origin_samples = end;
                return;
            }
        }
        self.pos_samples = end;
    }
}

/// A note event at an absolute sample position (the first sample of the run is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimedEvent {
    /// Sample position since the start of the run.
    pub sample: u64,
    /// The event (its `timing` is within its block).
    pub event: MidiEvent,
}

/// Collects the sequencer's output for a whole run.
#[derive(Debug, Default)]
pub struct Recorder {
    /// Everything emitted, in order.
    pub events: Vec<TimedEvent>,
    /// Phrases handed back by the sequencer.
    pub retired: Vec<Box<Phrase>>,
    /// Absolute sample position of the current block.
    pub block_start: u64,
    /// Length of the current block (events must land inside it).
    pub block_samples: u32,
}

impl SequencerOutput for Recorder {
    fn note(&mut self, event: MidiEvent) {
        self.events.push(TimedEvent {
            sample: self.block_start + event.timing as u64,
            event,
        });
    }

    fn retire(&mut self, phrase: Box<Phrase>) {
        self.retired.push(phrase);
    }
}

impl Recorder {
    /// Runs one block of the sequencer and advances the transport.
    pub fn block(&mut self, seq: &mut Sequencer, transport: &mut SimTransport, block_samples: u32) {
        self.block_samples = block_samples;
        seq.process(&transport.snapshot(), block_samples, self);
        transport.advance(block_samples);
        self.block_start += block_samples as u64;
    }

    /// Runs `total_samples` in blocks of `block_samples`.
    pub fn run(
        &mut self,
        seq: &mut Sequencer,
        transport: &mut SimTransport,
        total_samples: u64,
        block_samples: u32,
    ) {
        let mut done = 0;
        while done < total_samples {
            let n = (total_samples - done).min(block_samples.max(1) as u64) as u32;
            self.block(seq, transport, n);
            done += n as u64;
        }
    }
}
