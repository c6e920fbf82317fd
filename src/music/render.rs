//! Rendering: turns a [`Progression`] into the timed notes of a [`Phrase`].
//!
//! [`render_into`] fills a pooled phrase without allocating, so the worker thread can reuse its
//! phrases; [`render`] is the allocating convenience for the CLI and tests. Three parts:
//!
//! * **chords**: one voiced chord per bar ([`theory::voice`], led from the previous sounding
//!   chord), held the whole bar (legato: a common tone is re-struck on the bar line);
//! * **bass**: the chord root in octave 2 (MIDI 36–47), one note per bar on beat 1 held the
//!   whole bar (the voicings are often rootless, so the bass is what states the root);
//! * **melody**: one eighth-note step per [`Step`], ties merged.
//!
//! A bar without a chord has no chord and no bass. When the phrase is longer than the
//! progression its bars repeat cyclically, with the same voicings each time round.
//!
//! Feel is applied to grid positions in this order: swing (off-beat eighths delayed), then
//! humanize (deterministic jitter per grid line, so a note ending on a line and the next note
//! starting on it move together and never overlap), then the chord strum.

use super::drums::{render_groove, DrumFeel, Groove, KitMap};
use super::knobs::{KnobRange, Knobs, PartSettings, ENERGY, HUMANIZE_PCT, SWING_PCT};
use super::phrase::{Note, Part, Phrase};
use super::progression::{
    Progression, Step, BEATS_PER_BAR, EIGHTH_BEATS, MAX_BARS, STEPS_PER_CHORD, STEP_BEATS,
};
use super::theory::{self, Register, Voicing};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Timing jitter at 100 % humanize: onsets move by up to ± this many beats.
const MAX_TIMING_JITTER_BEATS: f64 = 0.04;
/// Velocity jitter at 100 % humanize: velocities move by up to ± this much.
const MAX_VELOCITY_JITTER: f64 = 14.0;
/// Strum at 100 % humanize: each chord voice, lowest first, starts this much after the one
/// below it.
const STRUM_BEATS_PER_VOICE: f64 = 0.012;
/// MIDI key of the bass's lowest note, C2: bass roots sit in 36–47.
const BASS_LOW_KEY: i32 = 36;
/// Grid lines a part can need: one per melody step plus the end of the phrase.
const MAX_GRID_LINES: usize = MAX_BARS * STEPS_PER_CHORD + 1;

/// Velocity at energy 0 and its rise at energy 1, per part: `base + rise × energy`.
struct VelocityCurve {
    /// Velocity at energy 0.
    base: f64,
    /// Added at energy 1.
    rise: f64,
}

/// Chords: 56 (energy 0) to 104 (energy 1); they sit under the melody.
const CHORD_VELOCITY: VelocityCurve = VelocityCurve {
    base: 56.0,
    rise: 48.0,
};
/// Bass: 60 to 108.
const BASS_VELOCITY: VelocityCurve = VelocityCurve {
    base: 60.0,
    rise: 48.0,
};
/// Melody: 64 to 112, a little louder so it leads.
const MELODY_VELOCITY: VelocityCurve = VelocityCurve {
    base: 64.0,
    rise: 48.0,
};

/// How a progression is performed. Built from the knobs ([`RenderSettings::from_knobs`]) everywhere a phrase is
/// written; [`RenderSettings::neutral`] (straight, unhumanized, medium energy, the
/// progression's own length) is for tests that derive notes by hand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderSettings {
    /// Phrase length in bars: None = the progression's own; Some(n), n in 1..=8, repeats the
    /// progression's bars cyclically or cuts them to n bars. Out-of-range values are clamped.
    pub bars: Option<u32>,
    /// 0–1. Scales velocities linearly: chords 56–104, bass 60–108, melody 64–112.
    pub energy: f32,
    /// 0–60. Off-beat eighths (onsets and note ends) are delayed by `swing_pct`/100 of an eighth
    /// note: at 50 an off-beat at beat 0.5 lands on 0.75. 0 is straight.
    pub swing_pct: f32,
    /// 0–100. Timing jitter of up to ±(`humanize_pct`/100 × 0.04) beat per grid line, velocity
    /// jitter of up to ±(`humanize_pct`/100 × 14), and a chord strum of `humanize_pct`/100 ×
    /// 0.012 beat per voice. 0 puts every note exactly on the (swung) grid.
    pub humanize_pct: f32,
    /// Seed of the humanize jitter: the same seed always gives the same phrase.
    pub humanize_seed: u64,
    /// Seed of the drums' humanize jitter: the groove's seed, which is the phrase's seed
    /// unless Lock drums kept an earlier groove or Drums only wrote a new one, so a kept
    /// groove plays exactly as before.
    pub drum_seed: u64,
    /// The chord part; defaults to channel 0 (user channel 1).
    pub chords: PartSettings,
    /// The bass part; defaults to channel 1 (user channel 2).
    pub bass: PartSettings,
    /// The melody part; defaults to channel 2 (user channel 3).
    pub melody: PartSettings,
    /// The drum part; defaults to channel 9 (user channel 10).
    pub drums: PartSettings,
    /// Lazy, 0–100 % (see `drums::LAZY_LATE_BEATS`).
    pub lazy_pct: f32,
    /// Which MIDI key each drum sound uses.
    pub kit: KitMap,
}

impl RenderSettings {
    /// How `knobs` perform a phrase humanized with `seed` (the phrase's seed).
    pub fn from_knobs(knobs: &Knobs, seed: u64) -> RenderSettings {
        RenderSettings {
            bars: Some(knobs.bars),
            energy: knobs.energy,
            swing_pct: knobs.swing_pct,
            humanize_pct: knobs.humanize_pct,
            humanize_seed: seed,
            drum_seed: seed,
            chords: knobs.chords,
            bass: knobs.bass,
            melody: knobs.melody,
            drums: knobs.drums,
            lazy_pct: knobs.lazy_pct,
            kit: knobs.kit,
        }
    }

    /// Straight, unhumanized, energy 0.5, the progression's own length, parts on channels 0–2.
    pub fn neutral() -> RenderSettings {
        let part = PartSettings::on;
        RenderSettings {
            bars: None,
            energy: 0.5,
            swing_pct: 0.0,
            humanize_pct: 0.0,
            humanize_seed: 0,
            drum_seed: 0,
            chords: part(0),
            bass: part(1),
            melody: part(2),
            drums: part(9),
            lazy_pct: 0.0,
            kit: KitMap::GeneralMidi,
        }
    }
}

/// Renders into a newly allocated phrase, without drums; see [`render_into`].
pub fn render(progression: &Progression, settings: &RenderSettings) -> Phrase {
    let mut phrase = Phrase::new(phrase_bars(progression, settings));
    render_into(progression, None, settings, &mut phrase);
    phrase
}

/// Renders `progression`, and `groove` as the drum part when given, into `out`, replacing its
/// contents. Does not allocate.
pub fn render_into(
    progression: &Progression,
    groove: Option<&Groove>,
    settings: &RenderSettings,
    out: &mut Phrase,
) {
    let bars = phrase_bars(progression, settings) as usize;
    out.clear(bars as u32);
    if !progression.bars.is_empty() {
        let voicings = voice_bars(progression);
        if settings.chords.enabled {
            render_chords(progression, &voicings, bars, settings, out);
        }
        if settings.bass.enabled {
            render_bass(progression, bars, settings, out);
        }
        if settings.melody.enabled {
            render_melody(progression, bars, settings, out);
        }
    }
    if let Some(groove) = groove.filter(|_| settings.drums.enabled) {
        render_drums(groove, bars, settings, out);
    }
    out.finish();
}

/// The groove performed with the phrase's feel (swing, humanize with the groove's seed, Lazy,
/// energy), each hit a short note on the drum channel at the kit's key.
fn render_drums(groove: &Groove, bars: usize, settings: &RenderSettings, out: &mut Phrase) {
    let feel = DrumFeel {
        energy: settings.energy,
        swing_pct: settings.swing_pct,
        humanize_pct: settings.humanize_pct,
        humanize_seed: settings.drum_seed,
        lazy_pct: settings.lazy_pct,
    };
    let (channel, kit) = (settings.drums.channel, settings.kit);
    render_groove(groove, bars as u32, &feel, &mut |hit| {
        out.push(Note {
            start_beats: hit.start_beats,
            len_beats: hit.len_beats,
            key: kit.key(hit.sound),
            velocity: hit.velocity,
            channel,
            part: Part::Drums,
        });
    });
}

/// The phrase length in bars, 1..=[`MAX_BARS`].
fn phrase_bars(progression: &Progression, settings: &RenderSettings) -> u32 {
    let own = progression.bars.len().min(MAX_BARS) as u32;
    settings.bars.unwrap_or(own).clamp(1, MAX_BARS as u32)
}

/// The voicing of each of the progression's first [`MAX_BARS`] bars, led bar to bar.
fn voice_bars(progression: &Progression) -> [Option<Voicing>; MAX_BARS] {
    let mut voicings = [None; MAX_BARS];
    let mut previous: Option<Voicing> = None;
    for (slot, bar) in voicings.iter_mut().zip(&progression.bars) {
        *slot = bar.chord.map(|chord| {
            let (key, mode) = (progression.key, progression.mode);
            theory::voice(chord, key, mode, previous.as_ref(), Register::CHORDS)
        });
        previous = slot.or(previous);
    }
    voicings
}

/// One chord per bar, the whole bar, voices strummed upwards when humanized.
fn render_chords(
    progression: &Progression,
    voicings: &[Option<Voicing>; MAX_BARS],
    bars: usize,
    settings: &RenderSettings,
    out: &mut Phrase,
) {
    let mut w = PartWriter::new(
        Part::Chords,
        settings.chords,
        settings,
        bars + 1,
        bar_beats(),
    );
    let strum_beats = humanize_amount(settings) * STRUM_BEATS_PER_VOICE;
    for bar in 0..bars {
        let Some(voicing) = voicings[bar % progression.bars.len()] else {
            continue;
        };
        for (i, &key) in voicing.keys().iter().enumerate() {
            let delay_beats = strum_beats * i as f64;
            w.push(
                out,
                bar,
                bar + 1,
                i32::from(key),
                delay_beats,
                &CHORD_VELOCITY,
            );
        }
    }
}

/// The chord root in octave 2, on beat 1, the whole bar.
fn render_bass(
    progression: &Progression,
    bars: usize,
    settings: &RenderSettings,
    out: &mut Phrase,
) {
    let mut w = PartWriter::new(Part::Bass, settings.bass, settings, bars + 1, bar_beats());
    for bar in 0..bars {
        let Some(chord) = progression.bars[bar % progression.bars.len()].chord else {
            continue;
        };
        let root = theory::root_pitch_class(chord, progression.key, progression.mode);
        let key = BASS_LOW_KEY + i32::from(root);
        w.push(out, bar, bar + 1, key, 0.0, &BASS_VELOCITY);
    }
}

/// The melody's tonic: MIDI 60 + key for C–F# (keys 0–6), 48 + key for G–B, so the tonic sits
/// in F#3–F#4 and the melody's −12..=24 range stays singable.
fn melody_tonic(key: u8) -> i32 {
    let key = i32::from(key % 12);
    if key <= 6 {
        60 + key
    } else {
        48 + key
    }
}

/// One note per [`Step::Note`], lengthened by the [`Step::Hold`]s after it (across bar lines
/// too); a hold after a rest, or at the very start, is a rest.
fn render_melody(
    progression: &Progression,
    bars: usize,
    settings: &RenderSettings,
    out: &mut Phrase,
) {
    let steps = bars * STEPS_PER_CHORD;
    let mut w = PartWriter::new(
        Part::Melody,
        settings.melody,
        settings,
        steps + 1,
        STEP_BEATS,
    );
    let tonic = melody_tonic(progression.key);
    // The sounding note, if any: its first step and its key.
    let mut open: Option<(usize, i32)> = None;
    for s in 0..steps {
        let bar = &progression.bars[(s / STEPS_PER_CHORD) % progression.bars.len()];
        match bar.melody[s % STEPS_PER_CHORD] {
            Step::Hold => {}
            Step::Rest => {
                if let Some((from, key)) = open.take() {
                    w.push(out, from, s, key, 0.0, &MELODY_VELOCITY);
                }
            }
            Step::Note(pitch) => {
                if let Some((from, key)) = open.replace((s, tonic + i32::from(pitch))) {
                    w.push(out, from, s, key, 0.0, &MELODY_VELOCITY);
                }
            }
        }
    }
    if let Some((from, key)) = open {
        w.push(out, from, steps, key, 0.0, &MELODY_VELOCITY);
    }
}

/// Length of a bar in beats.
fn bar_beats() -> f64 {
    f64::from(BEATS_PER_BAR)
}

/// `x` clamped into `range`, with NaN read as its minimum (nothing rather than the default:
/// a broken value must not add swing or jitter).
fn clamp_setting(x: f32, range: KnobRange) -> f64 {
    f64::from(if x.is_nan() {
        range.min
    } else {
        x.clamp(range.min, range.max)
    })
}

/// Humanize as a fraction, 0–1.
fn humanize_amount(settings: &RenderSettings) -> f64 {
    clamp_setting(settings.humanize_pct, HUMANIZE_PCT) / 100.0
}

/// `pos_beats` swung: an off-beat eighth is delayed by `swing_pct`/100 of an eighth note;
/// every other position is left alone.
fn swing(pos_beats: f64, swing_pct: f64) -> f64 {
    let in_beat = pos_beats.rem_euclid(2.0 * EIGHTH_BEATS);
    if (in_beat - EIGHTH_BEATS).abs() < 1e-9 {
        pos_beats + swing_pct / 100.0 * EIGHTH_BEATS
    } else {
        pos_beats
    }
}

/// `end_beats − start_beats`, rounded down if needed so that `start_beats + len` never lands
/// after `end_beats`: a note ending where the next one on its key starts must end first.
fn exact_len_beats(start_beats: f64, end_beats: f64) -> f64 {
    let mut len = end_beats - start_beats;
    while len > 0.0 && start_beats + len > end_beats {
        len = len.next_down();
    }
    len
}

/// Deterministic jitter for one part: its own ChaCha8 stream of the humanize seed, so
/// enabling or disabling one part never changes another.
struct Humanizer {
    /// The part's random stream.
    rng: ChaCha8Rng,
    /// Humanize as a fraction, 0–1.
    amount: f64,
}

impl Humanizer {
    fn new(seed: u64, part: Part, amount: f64) -> Humanizer {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(part as u64);
        Humanizer { rng, amount }
    }

    /// Uniform in [−1, 1), from the top 53 bits of one draw (portable: no float sampler
    /// whose algorithm could change between rand versions).
    fn unit(&mut self) -> f64 {
        let u = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        2.0 * u - 1.0
    }

    /// A timing offset in beats.
    fn timing_beats(&mut self) -> f64 {
        self.unit() * self.amount * MAX_TIMING_JITTER_BEATS
    }

    /// A velocity offset.
    fn velocity(&mut self) -> f64 {
        self.unit() * self.amount * MAX_VELOCITY_JITTER
    }
}

/// Places one part's notes on its grid: swing, jitter, velocity, channel and octave.
struct PartWriter {
    /// The part written.
    part: Part,
    /// Its channel and octave.
    settings: PartSettings,
    /// Grid spacing in beats (a bar for chords and bass, a step for the melody).
    line_beats: f64,
    /// Swing, 0–60 %.
    swing_pct: f64,
    /// Energy, 0–1.
    energy: f64,
    /// Jitter of each grid line in beats, drawn up front so notes sharing a line share it.
    jitter_beats: [f64; MAX_GRID_LINES],
    /// Velocity jitter source (timing jitter is already drawn).
    humanizer: Humanizer,
}

impl PartWriter {
    fn new(
        part: Part,
        part_settings: PartSettings,
        settings: &RenderSettings,
        lines: usize,
        line_beats: f64,
    ) -> PartWriter {
        let amount = humanize_amount(settings);
        let mut humanizer = Humanizer::new(settings.humanize_seed, part, amount);
        let mut jitter_beats = [0.0; MAX_GRID_LINES];
        for j in jitter_beats.iter_mut().take(lines) {
            *j = humanizer.timing_beats();
        }
        PartWriter {
            part,
            settings: part_settings,
            line_beats,
            swing_pct: clamp_setting(settings.swing_pct, SWING_PCT),
            energy: clamp_setting(settings.energy, ENERGY),
            jitter_beats,
            humanizer,
        }
    }

    /// Where grid line `line` falls, in beats, after swing and jitter.
    fn position_beats(&self, line: usize) -> f64 {
        let jitter = self.jitter_beats.get(line).copied().unwrap_or(0.0);
        swing(line as f64 * self.line_beats, self.swing_pct) + jitter
    }

    /// Pushes a note from grid line `from` to `to`, its onset delayed by `delay_beats`. `key`
    /// is before the part's octave shift; a key that lands outside 0–127 is dropped.
    fn push(
        &mut self,
        out: &mut Phrase,
        from: usize,
        to: usize,
        key: i32,
        delay_beats: f64,
        velocity: &VelocityCurve,
    ) {
        let Ok(key) = u8::try_from(key + 12 * i32::from(self.settings.octave)) else {
            return;
        };
        if key > 127 {
            return;
        }
        let start_beats = (self.position_beats(from) + delay_beats).max(0.0);
        let len_beats = exact_len_beats(start_beats, self.position_beats(to));
        let velocity = velocity.base + velocity.rise * self.energy + self.humanizer.velocity();
        out.push(Note {
            start_beats,
            len_beats,
            key,
            velocity: velocity.round().clamp(1.0, 127.0) as u8,
            channel: self.settings.channel,
            part: self.part,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::progression::{Bar, Chord, Mode};
    use Step::{Hold, Note as N, Rest};

    /// A progression from (diatonic degree or no chord, melody) bars.
    fn prog(key: u8, mode: Mode, bars: &[(Option<u8>, [Step; 8])]) -> Progression {
        let bars = bars
            .iter()
            .map(|&(degree, melody)| Bar {
                chord: degree.map(|d| Chord::diatonic(mode, d)),
                melody,
            })
            .collect();
        Progression { key, mode, bars }
    }

    /// (start, length, key) of one part's notes, in push order.
    fn notes(phrase: &Phrase, part: Part) -> Vec<(f64, f64, u8)> {
        phrase
            .notes()
            .iter()
            .filter(|n| n.part == part)
            .map(|n| (n.start_beats, n.len_beats, n.key))
            .collect()
    }

    /// Velocities of one part's notes.
    fn velocities(phrase: &Phrase, part: Part) -> Vec<u8> {
        phrase
            .notes()
            .iter()
            .filter(|n| n.part == part)
            .map(|n| n.velocity)
            .collect()
    }

    fn two_five() -> Progression {
        prog(
            0,
            Mode::Ionian,
            &[
                (Some(2), [N(0), Hold, N(4), Rest, N(7), Hold, Hold, N(12)]),
                (Some(5), [Hold, Rest, N(-1), N(2), Rest, Rest, Hold, N(14)]),
            ],
        )
    }

    #[test]
    fn c_ionian_pitches_chords_and_bass() {
        let p = render(&two_five(), &RenderSettings::neutral());
        assert_eq!(p.bars(), 2);
        // Tonic C4 = 60. The last note of bar 1 is tied into bar 2; the hold after a rest
        // (bar 2, step 6) is silent.
        assert_eq!(
            notes(&p, Part::Melody),
            [
                (0.0, 1.0, 60),
                (1.0, 0.5, 64),
                (2.0, 1.5, 67),
                (3.5, 1.0, 72),
                (5.0, 0.5, 59),
                (5.5, 0.5, 62),
                (7.5, 0.5, 74),
            ]
        );
        // Dm9 then G13, as in theory's ii–V–I test, the whole bar each.
        let chord = |start, key| (start, 4.0, key);
        assert_eq!(
            notes(&p, Part::Chords),
            [
                chord(0.0, 60),
                chord(0.0, 64),
                chord(0.0, 65),
                chord(0.0, 69),
                chord(4.0, 59),
                chord(4.0, 64),
                chord(4.0, 65),
                chord(4.0, 69),
            ]
        );
        // D2 and G2.
        assert_eq!(notes(&p, Part::Bass), [(0.0, 4.0, 38), (4.0, 4.0, 43)]);
    }

    #[test]
    fn a_aeolian_pitches_with_octave_shifts() {
        let progression = prog(
            9,
            Mode::Aeolian,
            &[(
                Some(1),
                [N(0), N(3), N(7), N(-5), N(12), N(24), N(-12), Rest],
            )],
        );
        let mut settings = RenderSettings::neutral();
        settings.melody.octave = 1;
        settings.bass.octave = -1;
        let p = render(&progression, &settings);
        // Tonic A3 = 48 + 9 = 57, one octave up: 69.
        let keys: Vec<u8> = notes(&p, Part::Melody).iter().map(|n| n.2).collect();
        assert_eq!(keys, [69, 72, 76, 64, 81, 93, 57]);
        // A2 = 45, an octave down.
        assert_eq!(notes(&p, Part::Bass), [(0.0, 4.0, 33)]);
        assert_eq!(melody_tonic(6), 66);
        assert_eq!(melody_tonic(7), 55);
        assert_eq!(melody_tonic(3), 63);
    }

    #[test]
    fn keys_pushed_out_of_range_are_dropped() {
        let progression = prog(
            0,
            Mode::Ionian,
            &[(Some(2), [N(0), N(12), N(7), Rest, Rest, Rest, Rest, Rest])],
        );
        let mut settings = RenderSettings::neutral();
        settings.melody.octave = 5;
        settings.bass.octave = -4;
        let p = render(&progression, &settings);
        // 60 + 60 = 120 and 127 stay; 132 is dropped, not wrapped.
        assert_eq!(notes(&p, Part::Melody), [(0.0, 0.5, 120), (1.0, 0.5, 127)]);
        // 38 − 48 < 0.
        assert!(notes(&p, Part::Bass).is_empty());
    }

    #[test]
    fn swing_delays_off_beats_only() {
        let melody = [N(0), Hold, N(2), N(4), Rest, N(5), Rest, Rest];
        let progression = prog(0, Mode::Ionian, &[(None, melody)]);
        let mut settings = RenderSettings {
            swing_pct: 50.0,
            ..RenderSettings::neutral()
        };
        // Off-beats 1.5 and 2.5 (and the end at 1.5) move by ¼ beat; on-beats stay.
        assert_eq!(
            notes(&render(&progression, &settings), Part::Melody),
            [
                (0.0, 1.0, 60),
                (1.0, 0.75, 62),
                (1.75, 0.25, 64),
                (2.75, 0.25, 65)
            ]
        );
        settings.swing_pct = 0.0;
        assert_eq!(
            notes(&render(&progression, &settings), Part::Melody),
            [
                (0.0, 1.0, 60),
                (1.0, 0.5, 62),
                (1.5, 0.5, 64),
                (2.5, 0.5, 65)
            ]
        );
        // A note on step 1 alone: 0.5 → 0.75, still ending on beat 1.
        let off = prog(
            0,
            Mode::Ionian,
            &[(None, [Rest, N(0), Rest, Rest, Rest, Rest, Rest, Rest])],
        );
        settings.swing_pct = 50.0;
        assert_eq!(
            notes(&render(&off, &settings), Part::Melody),
            [(0.75, 0.25, 60)]
        );
        // 30 %: 0.15 beat.
        settings.swing_pct = 30.0;
        let n = notes(&render(&off, &settings), Part::Melody)[0];
        assert!(
            (n.0 - 0.65).abs() < 1e-12 && (n.1 - 0.35).abs() < 1e-12,
            "{n:?}"
        );
        // Swing is capped at 60 %: 0.3 beat.
        settings.swing_pct = 95.0;
        let n = notes(&render(&off, &settings), Part::Melody)[0];
        assert!((n.0 - 0.8).abs() < 1e-12, "{n:?}");
    }

    #[test]
    fn holds_tie_and_leading_holds_rest() {
        let progression = prog(
            0,
            Mode::Ionian,
            &[
                (None, [N(0), Hold, Hold, Rest, Hold, N(2), Hold, Hold]),
                (None, [Hold, Hold, Rest, Rest, Rest, Rest, Rest, Rest]),
            ],
        );
        let p = render(&progression, &RenderSettings::neutral());
        assert_eq!(notes(&p, Part::Melody), [(0.0, 1.5, 60), (2.5, 2.5, 62)]);
        let late = prog(
            0,
            Mode::Ionian,
            &[(None, [Hold, Hold, N(0), Rest, Rest, Rest, Rest, Rest])],
        );
        let p = render(&late, &RenderSettings::neutral());
        assert_eq!(notes(&p, Part::Melody), [(1.0, 0.5, 60)]);
    }

    fn four_bars() -> Progression {
        prog(
            0,
            Mode::Ionian,
            &[
                (Some(2), [N(0), Hold, N(4), Rest, N(7), Hold, Hold, N(12)]),
                (Some(5), [Hold, Rest, N(-1), N(2), Rest, Rest, Hold, N(14)]),
                (None, [N(0), Rest, N(4), Rest, N(7), Rest, N(9), Hold]),
                (Some(1), [Hold, Rest, N(2), Rest, Rest, N(11), Hold, Hold]),
            ],
        )
    }

    #[test]
    fn more_bars_repeat_the_progression() {
        let progression = four_bars();
        let settings = RenderSettings {
            bars: Some(8),
            ..RenderSettings::neutral()
        };
        let p = render(&progression, &settings);
        assert_eq!(p.bars(), 8);
        for part in [Part::Chords, Part::Bass, Part::Melody] {
            let all = notes(&p, part);
            let (first, second): (Vec<(f64, f64, u8)>, Vec<_>) =
                all.into_iter().partition(|n| n.0 < 16.0);
            let shifted: Vec<_> = second.iter().map(|n| (n.0 - 16.0, n.1, n.2)).collect();
            assert_eq!(first, shifted, "{part:?}");
            assert!(!first.is_empty());
        }
        // The repeat's voicings are the original ones, not led on from the last bar.
        assert_eq!(
            notes(&p, Part::Chords)[12..16],
            notes(&p, Part::Chords)[0..4]
                .iter()
                .map(|n| (n.0 + 16.0, n.1, n.2))
                .collect::<Vec<_>>()[..]
        );
        // Two bars: the first two bars exactly.
        let short = render(
            &progression,
            &RenderSettings {
                bars: Some(2),
                ..settings
            },
        );
        assert_eq!(short.bars(), 2);
        assert_eq!(
            notes(&short, Part::Melody),
            notes(
                &render(&two_five(), &RenderSettings::neutral()),
                Part::Melody
            )
        );
        // A bar without a chord has neither chords nor bass: 3 chords × 2 in 8 bars.
        assert_eq!(notes(&p, Part::Bass).len(), 6);
    }

    #[test]
    fn humanize_is_seeded_and_bounded() {
        let progression = four_bars();
        let settings = |seed| RenderSettings {
            humanize_pct: 100.0,
            humanize_seed: seed,
            ..RenderSettings::neutral()
        };
        let a = render(&progression, &settings(7));
        assert_eq!(a, render(&progression, &settings(7)));
        assert_ne!(a, render(&progression, &settings(8)));
        let grid = render(&progression, &RenderSettings::neutral());
        for (h, g) in a.notes().iter().zip(grid.notes()) {
            assert_eq!((h.key, h.part, h.channel), (g.key, g.part, g.channel));
            // Up to 0.04 beat either way, plus up to 3 strum steps for the top chord voice.
            let slack = if h.part == Part::Chords {
                3.0 * STRUM_BEATS_PER_VOICE
            } else {
                0.0
            };
            let moved = h.start_beats - g.start_beats;
            assert!(h.start_beats >= 0.0);
            assert!(
                moved >= -0.04 - 1e-12 && moved <= 0.04 + slack + 1e-12,
                "{h:?} vs {g:?}"
            );
            assert!(h.velocity.abs_diff(g.velocity) <= 14);
        }
        // Each part has its own stream: muting the chords leaves the melody as it was.
        let mut muted = settings(7);
        muted.chords.enabled = false;
        assert_eq!(
            notes(&render(&progression, &muted), Part::Melody),
            notes(&a, Part::Melody)
        );
        // Humanize 0 is the exact grid whatever the seed.
        let zero = RenderSettings {
            humanize_seed: 12345,
            ..RenderSettings::neutral()
        };
        assert_eq!(render(&progression, &zero), grid);
    }

    #[test]
    fn humanized_legato_never_overlaps_the_same_key() {
        // Repeated chord tones and repeated melody notes: each note must end before the
        // next one on its key starts, for any seed.
        let progression = prog(
            0,
            Mode::Ionian,
            &[
                (Some(2), [N(0), N(0), N(0), N(0), N(0), N(0), N(0), N(0)]),
                (Some(2), [N(0); 8]),
            ],
        );
        for seed in 0..50 {
            let settings = RenderSettings {
                humanize_pct: 100.0,
                humanize_seed: seed,
                swing_pct: (seed % 61) as f32,
                ..RenderSettings::neutral()
            };
            let p = render(&progression, &settings);
            let mut on = [[false; 128]; 16];
            for e in p.edges() {
                let sounding = &mut on[e.channel as usize][e.key as usize];
                assert!(!(e.on && *sounding), "seed {seed}: key {} overlaps", e.key);
                *sounding = e.on;
            }
        }
    }

    #[test]
    fn channels_and_enabled_flags() {
        let progression = two_five();
        let mut settings = RenderSettings::neutral();
        let p = render(&progression, &settings);
        for n in p.notes() {
            let expected = match n.part {
                Part::Chords => 0,
                Part::Bass => 1,
                Part::Melody => 2,
                Part::Drums => 9,
            };
            assert_eq!(n.channel, expected);
        }
        settings.chords.channel = 5;
        settings.bass.channel = 6;
        settings.melody.channel = 9;
        let p = render(&progression, &settings);
        assert!(p
            .notes()
            .iter()
            .all(|n| n.channel == [5, 6, 9][n.part as usize]));
        settings.melody.enabled = false;
        settings.chords.enabled = false;
        let p = render(&progression, &settings);
        assert!(p.notes().iter().all(|n| n.part == Part::Bass));
        assert_eq!(p.notes().len(), 2);
    }

    #[test]
    fn energy_sets_velocities() {
        let progression = two_five();
        let at = |energy| {
            render(
                &progression,
                &RenderSettings {
                    energy,
                    ..RenderSettings::neutral()
                },
            )
        };
        let low = at(0.0);
        assert!(velocities(&low, Part::Chords).iter().all(|&v| v == 56));
        assert!(velocities(&low, Part::Bass).iter().all(|&v| v == 60));
        assert!(velocities(&low, Part::Melody).iter().all(|&v| v == 64));
        let high = at(1.0);
        assert!(velocities(&high, Part::Chords).iter().all(|&v| v == 104));
        assert!(velocities(&high, Part::Bass).iter().all(|&v| v == 108));
        assert!(velocities(&high, Part::Melody).iter().all(|&v| v == 112));
        assert!(velocities(&at(0.5), Part::Melody).iter().all(|&v| v == 88));
        // Out of range and NaN are clamped.
        assert!(velocities(&at(3.0), Part::Melody).iter().all(|&v| v == 112));
        assert!(velocities(&at(f32::NAN), Part::Melody)
            .iter()
            .all(|&v| v == 64));
    }

    #[test]
    fn render_into_reuses_a_phrase() {
        let mut phrase = Phrase::new(8);
        render_into(&four_bars(), None, &RenderSettings::neutral(), &mut phrase);
        assert_eq!(phrase, render(&four_bars(), &RenderSettings::neutral()));
        render_into(&two_five(), None, &RenderSettings::neutral(), &mut phrase);
        assert_eq!(phrase, render(&two_five(), &RenderSettings::neutral()));
        // An empty progression renders an empty phrase instead of panicking.
        let empty = Progression {
            key: 0,
            mode: Mode::Ionian,
            bars: Vec::new(),
        };
        render_into(&empty, None, &RenderSettings::neutral(), &mut phrase);
        assert_eq!((phrase.bars(), phrase.notes().len()), (1, 0));
    }
}
