//! The real-time sequencer: plays the current [`Phrase`] looped against the host transport and
//! emits note-ons and note-offs at exact sample offsets. Owned by the audio thread.
//!
//! Guarantees (each has a test):
//! * **Block-size invariance.** A note at song sample N is emitted at N whatever the block sizes
//!   (1–8192 samples; 0-sample blocks do nothing). Positions are converted to samples as
//!   `ceil(x − EPS)`: a note starts on the first sample at or after its time.
//! * **Never twice, never lost.** The sequencer remembers the last position it scheduled up to
//!   (`cursor_bars`) and only ever emits what lies after it, so a host whose reported position
//!   jitters by a few samples, or repeats a block, never re-triggers a note.
//! * **Never hung.** A table of sounding notes is released on stop, seek or loop (any
//!   discontinuity), time-signature change, phrase swap, silence (bypass) and after `reset()`.
//! * **Swaps on bar lines.** A new phrase replaces the current one only on a bar boundary (every
//!   bar, or at the end of the current phrase); until then the current one keeps looping.
//! * **Chasing.** With [`Sequencer::set_chase`] on, playback that starts, seeks or loops into
//!   the middle of a note still sounding starts it on the first sample there, with its normal
//!   note-off: chords and bass with at least [`CHASE_MIN_BEATS`] left, melody notes with at
//!   least an eighth ([`CHASE_MELODY_MIN_BEATS`]) left; drums never (they are hits).
//! * **Real-time safe.** No allocation, lock, syscall or unbounded loop: phrases arrive already
//!   built, and replaced phrases are handed back through [`SequencerOutput::retire`].
//!
//! Time is measured in bars since the host's bar grid origin (`_bars`), quarter-note beats
//! (`_beats`) and samples (`_samples`). Phrases are aligned to the song: phrase bar 0 plays on
//! every song bar that is a multiple of the phrase length.

use crate::music::phrase::{Edge, Part, Phrase};
use crate::music::progression::BEATS_PER_BAR;

/// Slack when turning a position into a sample index, in samples (absorbs float rounding).
const EPS_SAMPLES: f64 = 1e-4;
/// A block that starts later than expected by up to this many samples is host jitter, not a seek.
const JITTER_FORWARD_SAMPLES: f64 = 64.0;
/// A block may start earlier than expected by up to the previous block's length plus this many
/// samples (a host repeating a position) without counting as a seek backwards.
const JITTER_BACKWARD_SAMPLES: f64 = 64.0;
/// Phrase loop iterations scanned per span at most (keeps every loop bounded).
const MAX_LOOPS_PER_SPAN: i64 = 16;
/// Tempo range accepted from a host, in BPM; outside it the transport counts as unusable. Wider
/// than what a MIDI file is written with (`midi::export::FILE_TEMPO_RANGE_BPM`): a host may
/// legitimately run at 5 or 1500 BPM, and the sequencer must follow it.
const HOST_TEMPO_RANGE_BPM: (f64, f64) = (1.0, 2000.0);
/// Largest host position accepted, in beats (about 10 days at 999 BPM).
const MAX_POS_BEATS: f64 = 1e8;

/// Least a chord or bass note must still sound to be chased, in beats: more than any humanize
/// jitter (±0.04 beat at 100 %), so a start on a bar line never chases the end of the previous
/// bar's chord.
pub const CHASE_MIN_BEATS: f64 = 0.125;
/// Least a melody note must still sound to be chased, in beats: an eighth note.
pub const CHASE_MELODY_MIN_BEATS: f64 = 0.5;

/// Largest time-signature numerator followed; anything else is played as 4/4.
pub const MAX_TIME_SIG_NUMERATOR: i32 = 64;
/// Time-signature denominators followed; anything else is played as 4/4.
pub const TIME_SIG_DENOMINATORS: [i32; 7] = [1, 2, 4, 8, 16, 32, 64];

/// Whether the sequencer follows this time signature (else it plays 4/4 bars).
pub fn time_sig_supported(numerator: i32, denominator: i32) -> bool {
    (1..=MAX_TIME_SIG_NUMERATOR).contains(&numerator)
        && TIME_SIG_DENOMINATORS.contains(&denominator)
}

/// What the host told us about its transport for one block, read through nice-plug's
/// `Transport` methods (so positions are derived when a host only gives samples or seconds).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TransportSnapshot {
    /// Whether the transport is running.
    pub playing: bool,
    /// Sample rate in Hz.
    pub sample_rate: f64,
    /// Tempo in BPM, if known.
    pub tempo_bpm: Option<f64>,
    /// Position of the block's first sample in quarter notes, if known.
    pub pos_beats: Option<f64>,
    /// Time signature (numerator, denominator), if known.
    pub time_sig: Option<(i32, i32)>,
    /// Start of the current bar in quarter notes, if known.
    pub bar_start_pos_beats: Option<f64>,
    /// Number of the current bar (0 = first bar of the song), if known.
    pub bar_number: Option<i32>,
    /// Active loop range in quarter notes (end exclusive), if the host loops.
    pub loop_range_beats: Option<(f64, f64)>,
}

/// One MIDI note event produced by the sequencer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MidiEvent {
    /// Sample offset within the block.
    pub timing: u32,
    /// True for note-on, false for note-off.
    pub on: bool,
    /// MIDI channel 0–15.
    pub channel: u8,
    /// MIDI key 0–127.
    pub key: u8,
    /// Velocity 1–127 for note-ons, 0 for note-offs.
    pub velocity: u8,
    /// The part of the note (for a note-off, of the note-on it ends): which built-in
    /// instrument plays it. Not sent to the host.
    pub part: Part,
}

/// Where the sequencer's results go: note events in time order, and phrases it no longer
/// needs (to be freed off the audio thread).
pub trait SequencerOutput {
    /// A note event; calls arrive sorted by `timing`.
    fn note(&mut self, event: MidiEvent);
    /// A note event sent on to the host, with the source it came from (the engine's output
    /// router calls this; a recorder of what the host receives overrides it). Plain
    /// [`SequencerOutput::note`] by default.
    fn note_from(&mut self, source: crate::audio::input::Source, event: MidiEvent) {
        let _ = source;
        self.note(event);
    }
    /// A phrase the sequencer has let go of. Must not be dropped on the audio thread.
    fn retire(&mut self, phrase: Box<Phrase>);
}

/// When a queued phrase replaces the playing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SwapMode {
    /// At the next bar line.
    EveryBar,
    /// When the current phrase reaches its end (the next multiple of its length in bars).
    #[default]
    EndOfPhrase,
}

/// The host's bar grid and tempo for one block.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Grid {
    /// Length of one host bar in quarter notes.
    bar_len_beats: f64,
    /// Quarter-note position of bar 0.
    origin_beats: f64,
    /// Samples per bar at the current tempo.
    samples_per_bar: f64,
    /// Position of the block's first sample, in bars since the origin.
    start_bars: f64,
    /// Loop range in bars (end exclusive), if the host loops and the range is sane.
    loop_bars: Option<(f64, f64)>,
}

impl Grid {
    /// Reads a usable grid from the transport, or None when there is nothing to play against
    /// (stopped, no tempo or position, absurd values).
    fn from_transport(t: &TransportSnapshot) -> Option<Grid> {
        let tempo = t
            .tempo_bpm
            .filter(|b| (HOST_TEMPO_RANGE_BPM.0..=HOST_TEMPO_RANGE_BPM.1).contains(b))?;
        let pos = t
            .pos_beats
            .filter(|p| p.is_finite() && p.abs() <= MAX_POS_BEATS)?;
        if !t.playing || !t.sample_rate.is_finite() || t.sample_rate < 1.0 {
            return None;
        }
        let bar_len_beats = match t.time_sig {
            Some((num, den)) if time_sig_supported(num, den) => num as f64 * 4.0 / den as f64,
            _ => 4.0,
        };
        let origin_beats = Self::origin(t, pos, bar_len_beats);
        let samples_per_bar = t.sample_rate * 60.0 / tempo * bar_len_beats;
        let to_bars = |beats: f64| (beats - origin_beats) / bar_len_beats;
        let loop_bars = t
            .loop_range_beats
            .filter(|(s, e)| {
                s.is_finite() && e.is_finite() && (e - s) * samples_per_bar / bar_len_beats >= 1.0
            })
            .map(|(s, e)| (to_bars(s), to_bars(e)));
        Some(Grid {
            bar_len_beats,
            origin_beats,
            samples_per_bar,
            start_bars: to_bars(pos),
            loop_bars,
        })
    }

    /// Quarter-note position of bar 0: from the host's bar start and number when they agree
    /// with its position, else the song start.
    fn origin(t: &TransportSnapshot, pos: f64, bar_len_beats: f64) -> f64 {
        if let (Some(start), Some(number)) = (t.bar_start_pos_beats, t.bar_number) {
            let inside = pos - start;
            if start.is_finite() && inside > -1e-6 && inside < bar_len_beats + 1e-6 {
                let origin = start - number as f64 * bar_len_beats;
                if origin.is_finite() && origin.abs() <= MAX_POS_BEATS {
                    return origin;
                }
            }
        }
        0.0
    }

    /// Sample offset (from a block span starting at `ref_bars`) of position `at_bars`.
    fn offset(&self, ref_bars: f64, at_bars: f64) -> f64 {
        ((at_bars - ref_bars) * self.samples_per_bar - EPS_SAMPLES).ceil()
    }
}

/// The host's bar grid at a block's first sample, as the sequencer reads it: what the input
/// listener needs to find the bar lines inside a block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarClock {
    /// Position of the block's first sample, in bars since the host's bar 0.
    pub start_bars: f64,
    /// Samples per bar at the current tempo.
    pub samples_per_bar: f64,
    /// Samples per quarter note at the current tempo.
    pub samples_per_beat: f64,
}

impl BarClock {
    /// The bar grid of `transport`, or None when the sequencer has nothing to play against
    /// (stopped, no tempo or position, absurd values).
    pub fn of(transport: &TransportSnapshot) -> Option<BarClock> {
        let grid = Grid::from_transport(transport)?;
        Some(BarClock {
            start_bars: grid.start_bars,
            samples_per_bar: grid.samples_per_bar,
            samples_per_beat: grid.samples_per_bar / grid.bar_len_beats,
        })
    }

    /// The sample offset (from the block start) of the first sample at or after the bar
    /// line `bar`, by the sequencer's rule.
    pub fn offset_of_bar(&self, bar: f64) -> f64 {
        ((bar - self.start_bars) * self.samples_per_bar - EPS_SAMPLES).ceil()
    }
}

/// A phrase position in beats, in bars.
fn at_bars_of(beats: f64) -> f64 {
    beats / f64::from(BEATS_PER_BAR)
}

/// Sounding notes: a reference count per channel and key, plus a bit per key for quick release.
#[derive(Debug, Clone)]
struct Sounding {
    /// How many phrase notes currently hold each (channel, key).
    count: [[u8; 128]; 16],
    /// Bit k of `bits[ch]` is set while key k sounds on channel ch.
    bits: [u128; 16],
    /// The part of the latest note-on of each (channel, key): the part its note-off ends.
    part: [[Part; 128]; 16],
}

impl Default for Sounding {
    fn default() -> Self {
        Sounding {
            count: [[0; 128]; 16],
            bits: [0; 16],
            part: [[Part::Chords; 128]; 16],
        }
    }
}

impl Sounding {
    fn note_on(&mut self, timing: u32, edge: &Edge, out: &mut impl SequencerOutput) {
        let (ch, k) = ((edge.channel & 15) as usize, (edge.key & 127) as usize);
        if self.count[ch][k] > 0 {
            // Already sounding (two parts share a key): end it first so the retrigger is heard
            // and the host never sees two note-ons without a note-off.
            out.note(MidiEvent {
                timing,
                on: false,
                channel: ch as u8,
                key: k as u8,
                velocity: 0,
                part: self.part[ch][k],
            });
        }
        self.count[ch][k] = self.count[ch][k].saturating_add(1);
        self.bits[ch] |= 1 << k;
        self.part[ch][k] = edge.part;
        out.note(MidiEvent {
            timing,
            on: true,
            channel: ch as u8,
            key: k as u8,
            velocity: edge.velocity,
            part: edge.part,
        });
    }

    fn note_off(&mut self, timing: u32, channel: u8, key: u8, out: &mut impl SequencerOutput) {
        let (ch, k) = ((channel & 15) as usize, (key & 127) as usize);
        match self.count[ch][k] {
            0 => {} // Its note-on was never played (playback started mid-note, or it was released).
            1 => {
                self.count[ch][k] = 0;
                self.bits[ch] &= !(1 << k);
                out.note(MidiEvent {
                    timing,
                    on: false,
                    channel: ch as u8,
                    key: k as u8,
                    velocity: 0,
                    part: self.part[ch][k],
                });
            }
            _ => self.count[ch][k] -= 1,
        }
    }

    fn release_all(&mut self, timing: u32, out: &mut impl SequencerOutput) {
        for ch in 0..16 {
            let mut bits = self.bits[ch];
            while bits != 0 {
                let k = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.count[ch][k] = 0;
                out.note(MidiEvent {
                    timing,
                    on: false,
                    channel: ch as u8,
                    key: k as u8,
                    velocity: 0,
                    part: self.part[ch][k],
                });
            }
            self.bits[ch] = 0;
        }
    }

    fn any(&self) -> bool {
        self.bits.iter().any(|&b| b != 0)
    }
}

/// Where playback continues from, remembered between blocks while the transport plays.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Playhead {
    /// Everything at or before this position (in bars) has been scheduled.
    cursor_bars: f64,
    /// Where the next block should start if the host keeps playing, in bars.
    expected_start_bars: f64,
    /// Length of the last block, in samples (a repeated position moves back by this much).
    last_block_samples: f64,
    /// Bar length of the grid the cursor was measured in, in quarter notes.
    bar_len_beats: f64,
    /// Origin of that grid, in quarter notes.
    origin_beats: f64,
}

/// The audio thread's sequencer; see the module docs.
#[derive(Debug, Default)]
pub struct Sequencer {
    /// The phrase being played.
    current: Option<Box<Phrase>>,
    /// The phrase that replaces it at the next allowed bar line.
    pending: Option<Box<Phrase>>,
    /// When `pending` may replace `current`.
    swap_mode: SwapMode,
    /// Notes we have started and not yet ended.
    sounding: Sounding,
    /// Set while the transport plays and we are following it.
    playhead: Option<Playhead>,
    /// Release every sounding note at the start of the next block (set by `reset()`).
    release_requested: bool,
    /// Whether notes already sounding where playback starts are chased.
    chase: bool,
}

impl Sequencer {
    /// A sequencer with nothing to play.
    pub fn new() -> Sequencer {
        Sequencer::default()
    }

    /// Chooses when queued phrases swap in.
    pub fn set_swap_mode(&mut self, mode: SwapMode) {
        self.swap_mode = mode;
    }

    /// Chooses whether notes already sounding where playback starts are chased (see the
    /// module docs). Off by default.
    pub fn set_chase(&mut self, chase: bool) {
        self.chase = chase;
    }

    /// Whether the block about to play (`block_samples` from the transport's position) reaches
    /// a bar line where a queued phrase would swap in, or nothing plays yet: the moment an
    /// offline render must have the phrase it asked for. False while stopped.
    pub fn swap_due(&self, transport: &TransportSnapshot, block_samples: u32) -> bool {
        let Some(grid) = Grid::from_transport(transport) else {
            return false;
        };
        if self.current.is_none() {
            return true;
        }
        let before_start = grid.start_bars - (1.0 - EPS_SAMPLES) / grid.samples_per_bar;
        let end_bars =
            grid.start_bars + (f64::from(block_samples) - 1.0 + EPS_SAMPLES) / grid.samples_per_bar;
        self.next_swap_bar(before_start) <= end_bars
    }

    /// The phrase being played, if any.
    pub fn current(&self) -> Option<&Phrase> {
        self.current.as_deref()
    }

    /// The phrase waiting for its bar line, if any.
    pub fn pending(&self) -> Option<&Phrase> {
        self.pending.as_deref()
    }

    /// Where playback is, in bars since the host's bar 0, while playing.
    pub fn cursor_bars(&self) -> Option<f64> {
        self.playhead.map(|p| p.cursor_bars)
    }

    /// Whether any note is sounding.
    pub fn has_sounding_notes(&self) -> bool {
        self.sounding.any()
    }

    /// Queues a phrase to swap in at the next allowed bar line. A phrase already waiting is
    /// replaced and retired (the newest request wins).
    pub fn queue(&mut self, phrase: Box<Phrase>, out: &mut impl SequencerOutput) {
        if let Some(old) = self.pending.replace(phrase) {
            out.retire(old);
        }
    }

    /// Replaces the playing phrase at once and drops any queued one, handing both back. Not for
    /// the audio thread (the caller frees them); used at activation, before playback.
    pub fn install(&mut self, phrase: Box<Phrase>) -> [Option<Box<Phrase>>; 2] {
        [self.current.replace(phrase), self.pending.take()]
    }

    /// Asks for every sounding note to be released at the start of the next block. Real-time
    /// safe; called from the plugin's `reset()` and `deactivate()`, where no events can be sent.
    pub fn request_release(&mut self) {
        self.release_requested = true;
        self.playhead = None;
    }

    /// Ends every sounding note at `timing` and forgets the playhead (bypass, errors).
    pub fn silence(&mut self, timing: u32, out: &mut impl SequencerOutput) {
        self.sounding.release_all(timing, out);
        self.release_requested = false;
        self.playhead = None;
    }

    /// Plays one block of `block_samples` samples against `transport`.
    pub fn process(
        &mut self,
        transport: &TransportSnapshot,
        block_samples: u32,
        out: &mut impl SequencerOutput,
    ) {
        if self.release_requested {
            self.silence(0, out);
        }
        if block_samples == 0 {
            return;
        }
        let Some(grid) = Grid::from_transport(transport) else {
            // Stopped (or nothing usable to follow): end notes, and a queued phrase may swap in
            // at once since nothing is audible.
            self.silence(0, out);
            if let Some(next) = self.pending.take() {
                if let Some(old) = self.current.replace(next) {
                    out.retire(old);
                }
            }
            return;
        };
        if self.current.is_none() {
            // Nothing audible yet: a queued phrase starts at once.
            self.current = self.pending.take();
        }
        let (mut span, fresh) = self.follow(&grid, out);
        if fresh {
            self.chase_notes(span, 0.0, out);
        }
        let mut remaining = block_samples as f64;
        let mut sample_base = 0.0;
        // Bounded: each pass either ends the block or wraps at the host's loop end.
        for _ in 0..MAX_LOOPS_PER_SPAN {
            let end_bars = span.start_bars + (remaining - 1.0 + EPS_SAMPLES) / grid.samples_per_bar;
            let wrap = match grid.loop_bars {
                Some((_, loop_end)) if span.start_bars < loop_end && end_bars >= loop_end => {
                    grid.offset(span.start_bars, loop_end).clamp(0.0, remaining)
                }
                _ => remaining,
            };
            let last_bars = span.start_bars + (wrap - 1.0 + EPS_SAMPLES) / grid.samples_per_bar;
            self.play_span(&grid, span, last_bars, sample_base, out);
            span.cursor_bars = span.cursor_bars.max(last_bars);
            if wrap >= remaining {
                span.start_bars += remaining / grid.samples_per_bar;
                break;
            }
            // The host loops inside this block: end everything at the wrap and go on from the
            // loop start.
            let Some((loop_start, _)) = grid.loop_bars else {
                break;
            };
            self.sounding.release_all((sample_base + wrap) as u32, out);
            remaining -= wrap;
            sample_base += wrap;
            span = Span {
                start_bars: loop_start,
                cursor_bars: loop_start - (1.0 - EPS_SAMPLES) / grid.samples_per_bar,
            };
            self.chase_notes(span, sample_base, out);
        }
        self.playhead = Some(Playhead {
            cursor_bars: span.cursor_bars,
            expected_start_bars: span.start_bars,
            last_block_samples: block_samples as f64,
            bar_len_beats: grid.bar_len_beats,
            origin_beats: grid.origin_beats,
        });
    }

    /// Starts, at `timing`, every note of the current phrase that sounds at the start of
    /// `span` but whose note-on lies at or before its cursor, so it will not be played (see
    /// the module docs); their note-offs come from the phrase as usual. Bounded by the
    /// phrase's notes.
    fn chase_notes(&mut self, span: Span, timing: f64, out: &mut impl SequencerOutput) {
        let Some(phrase) = self.current.as_deref() else {
            return;
        };
        if !self.chase {
            return;
        }
        let len_bars = f64::from(phrase.bars());
        let loop_start = (span.start_bars / len_bars).floor() * len_bars;
        let per_bar = f64::from(BEATS_PER_BAR);
        let start_beats = (span.start_bars - loop_start) * per_bar;
        let cursor_beats = (span.cursor_bars - loop_start) * per_bar;
        for n in phrase.notes() {
            let min_left = match n.part {
                Part::Chords | Part::Bass => CHASE_MIN_BEATS,
                Part::Melody => CHASE_MELODY_MIN_BEATS,
                // A drum hit started late is a different hit: never chased.
                Part::Drums => continue,
            };
            let left = n.start_beats + n.len_beats - start_beats;
            if n.start_beats <= cursor_beats && left >= min_left - 1e-9 {
                let edge = Edge {
                    pos_bars: at_bars_of(n.start_beats),
                    on: true,
                    key: n.key,
                    velocity: n.velocity,
                    channel: n.channel,
                    part: n.part,
                };
                self.sounding.note_on(timing as u32, &edge, out);
            }
        }
    }

    /// Decides whether this block continues the last one; on a discontinuity (start, seek,
    /// loop jump, time-signature change) releases everything and restarts from the host's
    /// position (returning true for a fresh start).
    fn follow(&mut self, grid: &Grid, out: &mut impl SequencerOutput) -> (Span, bool) {
        let fresh = Span {
            start_bars: grid.start_bars,
            cursor_bars: grid.start_bars - (1.0 - EPS_SAMPLES) / grid.samples_per_bar,
        };
        let Some(p) = self.playhead else {
            return (fresh, true);
        };
        if Self::host_wrapped(&p, grid) {
            self.sounding.release_all(0, out);
            return (fresh, true);
        }
        let same_grid = p.bar_len_beats == grid.bar_len_beats
            && (p.origin_beats - grid.origin_beats).abs() < 1e-6;
        let drift_samples = (grid.start_bars - p.expected_start_bars) * grid.samples_per_bar;
        let continuous = same_grid
            && drift_samples <= JITTER_FORWARD_SAMPLES
            && drift_samples >= -(p.last_block_samples + JITTER_BACKWARD_SAMPLES);
        if continuous {
            let span = Span {
                start_bars: grid.start_bars,
                cursor_bars: p.cursor_bars,
            };
            (span, false)
        } else {
            self.sounding.release_all(0, out);
            (fresh, true)
        }
    }

    /// Whether the host jumped from its loop end back to its loop start between two blocks
    /// (told apart from a repeated position by the loop range it reports).
    fn host_wrapped(p: &Playhead, grid: &Grid) -> bool {
        let Some((loop_start, loop_end)) = grid.loop_bars else {
            return false;
        };
        let tolerance_bars = JITTER_FORWARD_SAMPLES / grid.samples_per_bar;
        let overshoot = p.expected_start_bars - loop_end;
        overshoot >= -tolerance_bars
            && (grid.start_bars - (loop_start + overshoot.max(0.0))).abs() <= tolerance_bars
    }

    /// Emits everything after `span.cursor_bars` up to and including `end_bars`, swapping
    /// in a queued phrase at its bar line on the way.
    fn play_span(
        &mut self,
        grid: &Grid,
        span: Span,
        end_bars: f64,
        sample_base: f64,
        out: &mut impl SequencerOutput,
    ) {
        let mut from = Bound {
            bars: span.cursor_bars,
            inclusive: false,
        };
        if self.pending.is_some() {
            let swap_bars = self.next_swap_bar(span.cursor_bars);
            if swap_bars <= end_bars {
                let to = Bound {
                    bars: swap_bars,
                    inclusive: false,
                };
                self.emit_edges(grid, span.start_bars, from, to, sample_base, out);
                let timing = sample_base + grid.offset(span.start_bars, swap_bars).max(0.0);
                self.sounding.release_all(timing as u32, out);
                if let Some(next) = self.pending.take() {
                    if let Some(old) = self.current.replace(next) {
                        out.retire(old);
                    }
                }
                from = Bound {
                    bars: swap_bars,
                    inclusive: true,
                };
            }
        }
        let to = Bound {
            bars: end_bars,
            inclusive: true,
        };
        self.emit_edges(grid, span.start_bars, from, to, sample_base, out);
    }

    /// The first bar line after `cursor_bars` at which a queued phrase may swap in.
    fn next_swap_bar(&self, cursor_bars: f64) -> f64 {
        let every = match (self.swap_mode, &self.current) {
            (SwapMode::EndOfPhrase, Some(p)) => p.bars() as f64,
            _ => 1.0,
        };
        ((cursor_bars / every).floor() + 1.0) * every
    }

    /// Emits the current phrase's edges between two bounds (in bars) at their sample offsets.
    fn emit_edges(
        &mut self,
        grid: &Grid,
        ref_bars: f64,
        from: Bound,
        to: Bound,
        sample_base: f64,
        out: &mut impl SequencerOutput,
    ) {
        let Some(phrase) = self.current.as_deref() else {
            return;
        };
        let len_bars = phrase.bars() as f64;
        let first_loop = (from.bars / len_bars).floor() as i64;
        let last_loop = ((to.bars / len_bars).floor() as i64).min(first_loop + MAX_LOOPS_PER_SPAN);
        for k in first_loop..=last_loop {
            let loop_start = k as f64 * len_bars;
            let edges = phrase.edges();
            let first = edges.partition_point(|e| !from.admits_from(loop_start + e.pos_bars));
            for e in &edges[first..] {
                let at = loop_start + e.pos_bars;
                if !to.admits_to(at) {
                    break;
                }
                let timing = (sample_base + grid.offset(ref_bars, at).max(0.0)) as u32;
                if e.on {
                    self.sounding.note_on(timing, e, out);
                } else {
                    self.sounding.note_off(timing, e.channel, e.key, out);
                }
            }
        }
    }
}

/// The span of a block being played: where it starts and what was already scheduled.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    /// Position of the span's first sample, in bars.
    start_bars: f64,
    /// Everything at or before this position has been scheduled, in bars.
    cursor_bars: f64,
}

/// One end of a span of positions.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bound {
    /// Position in bars.
    bars: f64,
    /// Whether the position itself belongs to the span.
    inclusive: bool,
}

impl Bound {
    fn admits_from(self, at: f64) -> bool {
        at > self.bars || (self.inclusive && at == self.bars)
    }

    fn admits_to(self, at: f64) -> bool {
        at < self.bars || (self.inclusive && at == self.bars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::sim::{Recorder, SimTransport, TimedEvent};
    use crate::music::phrase::{Note, Part as NotePart};

    /// 48 kHz at 120 BPM: 24 000 samples per beat, 96 000 per 4/4 bar.
    const SPB: u64 = 24_000;

    fn phrase(bars: u32, notes: &[(f64, f64, u8)]) -> Box<Phrase> {
        let mut p = Phrase::new(bars);
        for &(start_beats, len_beats, key) in notes {
            p.push(Note {
                start_beats,
                len_beats,
                key,
                velocity: 100,
                channel: 0,
                part: NotePart::Melody,
            });
        }
        p.finish();
        Box::new(p)
    }

    fn playing() -> SimTransport {
        let mut t = SimTransport::new(48_000.0, 120.0);
        t.playing = true;
        t
    }

    fn loaded(p: Box<Phrase>) -> Sequencer {
        let mut seq = Sequencer::new();
        seq.queue(p, &mut Recorder::default());
        seq
    }

    fn summary(events: &[TimedEvent]) -> Vec<(u64, bool, u8)> {
        events
            .iter()
            .map(|e| (e.sample, e.event.on, e.event.key))
            .collect()
    }

    #[test]
    fn notes_land_on_their_exact_sample_for_any_block_size() {
        let notes = [(0.0, 1.0, 60), (1.0, 0.5, 62), (2.75, 1.25, 64)];
        let expected = vec![
            (0, true, 60),
            (SPB, false, 60),
            (SPB, true, 62),
            (SPB * 3 / 2, false, 62),
            (SPB * 11 / 4, true, 64),
            (SPB * 4, false, 64),
            (SPB * 4, true, 60),
        ];
        for block in [1, 2, 7, 63, 64, 512, 1000, 4096, 8192] {
            let mut seq = loaded(phrase(1, &notes));
            let mut rec = Recorder::default();
            rec.run(&mut seq, &mut playing(), SPB * 4 + 1, block);
            assert_eq!(summary(&rec.events), expected, "block size {block}");
        }
    }

    #[test]
    fn zero_sample_blocks_do_nothing() {
        let mut seq = loaded(phrase(1, &[(0.0, 1.0, 60)]));
        let mut rec = Recorder::default();
        let mut t = playing();
        rec.block(&mut seq, &mut t, 0);
        assert!(rec.events.is_empty());
        rec.block(&mut seq, &mut t, 1);
        assert_eq!(summary(&rec.events), [(0, true, 60)]);
    }

    #[test]
    fn jittered_and_repeated_positions_never_retrigger() {
        let mut seq = loaded(phrase(1, &[(0.0, 0.5, 60), (1.0, 0.5, 62)]));
        let mut rec = Recorder::default();
        let mut t = playing();
        let jitter = [0i64, 3, -2, 5, -5, 0, 1, -3];
        let mut reported = 0i64;
        for (i, j) in (0..400).zip(jitter.iter().cycle()) {
            let mut snap = t.snapshot();
            snap.pos_beats = Some((reported + j) as f64 / SPB as f64);
            rec.block_start = reported as u64;
            seq.process(&snap, 512, &mut rec);
            if i == 100 {
                // The host reports the same block twice.
                seq.process(&snap, 512, &mut rec);
            }
            reported += 512;
            t.advance(512);
        }
        let ons: Vec<_> = rec
            .events
            .iter()
            .filter(|e| e.event.on)
            .map(|e| e.event.key)
            .collect();
        // 204 800 samples = 2.13 bars: bars 0, 1 and the first note of bar 2.
        assert_eq!(ons, [60, 62, 60, 62, 60]);
    }

    #[test]
    fn stop_releases_sounding_notes_at_the_start_of_the_block() {
        let mut seq = loaded(phrase(1, &[(0.0, 4.0, 60)]));
        let mut rec = Recorder::default();
        let mut t = playing();
        rec.run(&mut seq, &mut t, 1000, 100);
        t.playing = false;
        rec.block(&mut seq, &mut t, 100);
        assert_eq!(summary(&rec.events), [(0, true, 60), (1000, false, 60)]);
        assert!(!seq.has_sounding_notes());
    }

    #[test]
    fn seek_releases_and_restarts_from_the_new_position() {
        let mut seq = loaded(phrase(1, &[(0.0, 4.0, 60), (2.0, 1.0, 64)]));
        let mut rec = Recorder::default();
        let mut t = playing();
        rec.run(&mut seq, &mut t, 1000, 100);
        t.seek_beats(1.5); // 12 000 samples before the note at beat 2
        rec.run(&mut seq, &mut t, 20_000, 100);
        assert_eq!(
            summary(&rec.events),
            [(0, true, 60), (1000, false, 60), (1000 + 12_000, true, 64)]
        );
    }

    #[test]
    fn host_loop_inside_a_block_wraps_exactly() {
        // Loop beats 0–1.5: the note on beat 1 is cut at the wrap, beat 0 plays again.
        let mut seq = loaded(phrase(1, &[(0.0, 0.5, 60), (1.0, 1.0, 62)]));
        let mut t = playing();
        t.loop_range_beats = Some((0.0, 1.5));
        for block in [1000, 36_000, 8192, 77] {
            let mut seq2 = loaded(phrase(1, &[(0.0, 0.5, 60), (1.0, 1.0, 62)]));
            let mut rec = Recorder::default();
            rec.run(&mut seq2, &mut t.clone(), 36_000 + 13_000, block);
            assert_eq!(
                summary(&rec.events),
                [
                    (0, true, 60),
                    (12_000, false, 60),
                    (24_000, true, 62),
                    (36_000, false, 62),
                    (36_000, true, 60),
                    (48_000, false, 60),
                ],
                "block {block}"
            );
        }
        let mut rec = Recorder::default();
        rec.run(&mut seq, &mut t, 100, 100);
    }

    #[test]
    fn queued_phrase_swaps_at_the_end_of_the_current_phrase() {
        let mut seq = loaded(phrase(2, &[(0.0, 8.0, 60)]));
        let mut rec = Recorder::default();
        let mut t = playing();
        rec.run(&mut seq, &mut t, SPB * 2, 256); // half a bar in
        seq.queue(phrase(1, &[(0.0, 1.0, 70)]), &mut rec);
        rec.run(&mut seq, &mut t, SPB * 8, 256);
        // The 2-bar note keeps sounding to the end of bar 2 (beat 8), then the new phrase starts.
        assert_eq!(
            summary(&rec.events),
            [
                (0, true, 60),
                (SPB * 8, false, 60),
                (SPB * 8, true, 70),
                (SPB * 9, false, 70)
            ]
        );
        assert_eq!(rec.retired.len(), 1);
        assert_eq!(rec.retired[0].notes()[0].key, 60);
    }

    #[test]
    fn queued_phrase_swaps_at_the_next_bar_in_every_bar_mode() {
        let mut seq = loaded(phrase(2, &[(0.0, 8.0, 60)]));
        seq.set_swap_mode(SwapMode::EveryBar);
        let mut rec = Recorder::default();
        let mut t = playing();
        rec.run(&mut seq, &mut t, SPB * 2, 256);
        // A 4-bar phrase swapped in at bar 1 plays from its own bar 1 (song-aligned).
        seq.queue(phrase(4, &[(0.0, 1.0, 70), (4.0, 1.0, 72)]), &mut rec);
        rec.run(&mut seq, &mut t, SPB * 6, 256);
        assert_eq!(
            summary(&rec.events),
            [
                (0, true, 60),
                (SPB * 4, false, 60),
                (SPB * 4, true, 72),
                (SPB * 5, false, 72)
            ]
        );
    }

    #[test]
    fn time_signature_change_releases_and_follows_the_new_bars() {
        let mut seq = loaded(phrase(1, &[(0.0, 4.0, 60)]));
        let mut rec = Recorder::default();
        let mut t = playing();
        rec.run(&mut seq, &mut t, 1000, 100);
        t.time_sig = (3, 4);
        rec.run(&mut seq, &mut t, 100, 100);
        assert_eq!(summary(&rec.events), [(0, true, 60), (1000, false, 60)]);
    }

    #[test]
    fn a_bar_in_three_four_is_stretched_to_the_hosts_bar() {
        let mut seq = loaded(phrase(1, &[(0.0, 2.0, 60), (2.0, 2.0, 62)]));
        let mut rec = Recorder::default();
        let mut t = playing();
        t.time_sig = (3, 4);
        rec.run(&mut seq, &mut t, SPB * 3 + 1, 500);
        assert_eq!(
            summary(&rec.events),
            [
                (0, true, 60),
                (SPB * 3 / 2, false, 60),
                (SPB * 3 / 2, true, 62),
                (SPB * 3, false, 62),
                (SPB * 3, true, 60)
            ]
        );
    }

    #[test]
    fn reset_releases_at_the_next_block() {
        let mut seq = loaded(phrase(1, &[(0.0, 4.0, 60)]));
        let mut rec = Recorder::default();
        let mut t = playing();
        rec.run(&mut seq, &mut t, 1000, 100);
        seq.request_release();
        rec.run(&mut seq, &mut t, 100, 100);
        // Released at the start of the block, then — as after any restart — the note that
        // began before the current position is not chased.
        assert_eq!(summary(&rec.events), [(0, true, 60), (1000, false, 60)]);
    }

    #[test]
    fn absurd_transports_are_ignored_safely() {
        let mut seq = loaded(phrase(1, &[(0.0, 4.0, 60)]));
        let mut rec = Recorder::default();
        let mut t = playing();
        rec.run(&mut seq, &mut t, 100, 100);
        let good = t.snapshot();
        let bad = [
            TransportSnapshot {
                tempo_bpm: Some(f64::NAN),
                ..good
            },
            TransportSnapshot {
                tempo_bpm: Some(-120.0),
                ..good
            },
            TransportSnapshot {
                tempo_bpm: None,
                ..good
            },
            TransportSnapshot {
                pos_beats: Some(f64::INFINITY),
                ..good
            },
            TransportSnapshot {
                pos_beats: Some(1e300),
                ..good
            },
            TransportSnapshot {
                sample_rate: 0.0,
                ..good
            },
            TransportSnapshot {
                time_sig: Some((0, 0)),
                bar_start_pos_beats: Some(f64::NAN),
                ..good
            },
            TransportSnapshot {
                loop_range_beats: Some((5.0, f64::NAN)),
                ..good
            },
        ];
        for (i, snap) in bad.iter().enumerate() {
            rec.block_start = 100 + i as u64 * 100;
            seq.process(snap, 100, &mut rec);
        }
        // The first bad block ends the note; nothing else is emitted for unusable ones
        // (the 0/0 time signature falls back to 4/4 and restarts mid-note, which is silent).
        assert_eq!(summary(&rec.events), [(0, true, 60), (100, false, 60)]);
    }

    #[test]
    fn retriggering_a_sounding_key_ends_it_first() {
        let mut seq = loaded(phrase(1, &[(0.0, 2.0, 60), (1.0, 2.0, 60)]));
        let mut rec = Recorder::default();
        rec.run(&mut seq, &mut playing(), SPB * 4, 4096);
        assert_eq!(
            summary(&rec.events),
            [
                (0, true, 60),
                (SPB, false, 60),
                (SPB, true, 60),
                (SPB * 3, false, 60)
            ]
        );
    }

    /// A one-bar phrase with a chord (keys 60, 64), a bass note (36) over the whole bar, and
    /// melody notes on beats 2–3 (key 72, an eighth left from beat 2.5) and 2–2.75 (key 74, a
    /// sixteenth left).
    fn band_bar() -> Box<Phrase> {
        let mut p = Phrase::new(1);
        let notes = [
            (0.0, 4.0, 60, NotePart::Chords, 0),
            (0.0, 4.0, 64, NotePart::Chords, 0),
            (0.0, 4.0, 36, NotePart::Bass, 1),
            (2.0, 1.0, 72, NotePart::Melody, 2),
            (2.0, 0.75, 74, NotePart::Melody, 2),
        ];
        for (start_beats, len_beats, key, part, channel) in notes {
            p.push(Note {
                start_beats,
                len_beats,
                key,
                velocity: 100,
                channel,
                part,
            });
        }
        p.finish();
        Box::new(p)
    }

    fn summary_with_channels(events: &[TimedEvent]) -> Vec<(u64, bool, u8, u8)> {
        events
            .iter()
            .map(|e| (e.sample, e.event.on, e.event.channel, e.event.key))
            .collect()
    }

    #[test]
    fn a_start_mid_bar_chases_chord_bass_and_long_enough_melody_notes() {
        for block in [1, 7, 512, 8192] {
            let mut seq = loaded(band_bar());
            seq.set_chase(true);
            let mut rec = Recorder::default();
            let mut t = playing();
            t.seek_beats(2.5);
            rec.run(&mut seq, &mut t, SPB * 3 / 2 + 1, block);
            // At beat 2.5: the chord, the bass and the melody's 72 (an eighth left) start on
            // the first sample; 74 (a sixteenth left) does not. Each ends where the phrase ends
            // it, and the bar line re-strikes chord and bass once (no doubled note-on).
            assert_eq!(
                summary_with_channels(&rec.events),
                [
                    (0, true, 0, 60),
                    (0, true, 0, 64),
                    (0, true, 1, 36),
                    (0, true, 2, 72),
                    (SPB / 2, false, 2, 72),
                    (SPB * 3 / 2, false, 0, 60),
                    (SPB * 3 / 2, false, 0, 64),
                    (SPB * 3 / 2, false, 1, 36),
                    (SPB * 3 / 2, true, 0, 60),
                    (SPB * 3 / 2, true, 0, 64),
                    (SPB * 3 / 2, true, 1, 36),
                ],
                "block {block}"
            );
        }
    }

    #[test]
    fn without_chasing_a_start_mid_bar_waits_for_the_next_onset() {
        let mut seq = loaded(band_bar());
        let mut rec = Recorder::default();
        let mut t = playing();
        t.seek_beats(2.5);
        rec.run(&mut seq, &mut t, SPB * 3 / 2 + 1, 512);
        assert_eq!(
            summary_with_channels(&rec.events),
            [
                (SPB * 3 / 2, true, 0, 60),
                (SPB * 3 / 2, true, 0, 64),
                (SPB * 3 / 2, true, 1, 36),
            ]
        );
    }

    #[test]
    fn a_seek_and_a_host_loop_wrap_chase_at_the_jump() {
        // Seek: everything sounding is released, and what sounds at the new place starts there.
        let mut seq = loaded(band_bar());
        seq.set_chase(true);
        let mut rec = Recorder::default();
        let mut t = playing();
        rec.run(&mut seq, &mut t, 1000, 100);
        t.seek_beats(1.0);
        rec.run(&mut seq, &mut t, 100, 100);
        assert_eq!(
            summary_with_channels(&rec.events),
            [
                (0, true, 0, 60),
                (0, true, 0, 64),
                (0, true, 1, 36),
                (1000, false, 0, 60),
                (1000, false, 0, 64),
                (1000, false, 1, 36),
                (1000, true, 0, 60),
                (1000, true, 0, 64),
                (1000, true, 1, 36),
            ]
        );
        // A host loop over beats 1.5–3 wrapping inside a block: at the wrap the chord and bass
        // are released and started again (they sound at beat 1.5); the melody is not sounding
        // there.
        let mut seq = loaded(band_bar());
        seq.set_chase(true);
        let mut rec = Recorder::default();
        let mut t = playing();
        t.seek_beats(1.5);
        t.loop_range_beats = Some((1.5, 3.0));
        rec.run(&mut seq, &mut t, SPB * 2, 4096);
        let wrap = SPB * 3 / 2;
        let at_wrap: Vec<_> = summary_with_channels(&rec.events)
            .into_iter()
            .filter(|e| e.0 == wrap)
            .collect();
        assert_eq!(
            at_wrap,
            [
                (wrap, false, 0, 60),
                (wrap, false, 0, 64),
                (wrap, false, 1, 36),
                (wrap, false, 2, 72),
                (wrap, true, 0, 60),
                (wrap, true, 0, 64),
                (wrap, true, 1, 36),
            ]
        );
    }

    #[test]
    fn a_swap_is_due_in_the_block_that_reaches_the_bar_line() {
        let mut seq = loaded(phrase(2, &[(0.0, 1.0, 60)]));
        seq.set_swap_mode(SwapMode::EveryBar);
        let mut t = playing();
        // Nothing plays yet: due at once.
        assert!(Sequencer::new().swap_due(&t.snapshot(), 512));
        let mut rec = Recorder::default();
        rec.run(&mut seq, &mut t, SPB * 4 - 512, 512);
        // The block ending just before the bar line is not due; the one holding it is.
        t.seek_beats(4.0 - 1024.0 / SPB as f64);
        assert!(!seq.swap_due(&t.snapshot(), 512));
        t.seek_beats(4.0 - 512.0 / SPB as f64);
        assert!(seq.swap_due(&t.snapshot(), 513));
        assert!(!seq.swap_due(&t.snapshot(), 512));
        // At the end of the phrase in phrase-end mode: not at bar 1, at bar 2.
        seq.set_swap_mode(SwapMode::EndOfPhrase);
        t.seek_beats(4.0);
        assert!(!seq.swap_due(&t.snapshot(), 512));
        t.seek_beats(8.0);
        assert!(seq.swap_due(&t.snapshot(), 1));
        // Stopped: never due (nothing sounds, a phrase swaps in at once).
        t.playing = false;
        assert!(!seq.swap_due(&t.snapshot(), 512));
    }
}
