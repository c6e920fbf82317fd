//! A rolling key estimate from the notes the musician plays.
//!
//! # Method
//!
//! * **Evidence**: a pitch-class histogram. [`KeyEstimator::add`] adds a note's weight to its
//!   pitch class; [`KeyEstimator::end_bar`] multiplies every bin by [`DECAY_PER_BAR`], a
//!   half-life of [`HALF_LIFE_BARS`] = 4 bars, so the estimate follows the music but a bar of
//!   passing notes is only one bar among several.
//! * **Weights**: the note's sounding duration in beats (add it at note-off, or in slices while
//!   the note is held), so a held chord tone counts more than a passing note. "1 per onset"
//!   also works: the method only looks at the histogram's shape, not its scale; just use one
//!   convention throughout. Non-finite and negative weights are ignored; a weight is capped at
//!   [`MAX_WEIGHT`].
//! * **Score** of each of the 24 major and minor keys: the Krumhansl–Schmuckler correlation
//!   (Pearson's r between the histogram and the key's Krumhansl–Kessler profile, rotated to the
//!   tonic) plus [`FIT_WEIGHT`] × the share of the histogram inside the key's scale (major, or
//!   natural minor). The fit term is there because plain KS confuses a key with its dominant on
//!   a ii–V–I: Gm7 | C7 | Fmaj7, a bar each, scores C major a few thousandths above F major
//!   (C7 and Fmaj7 together hold C major's tonic triad, and nothing but the B♭ says F). With
//!   the term F wins by about 0.07, more than [`SWITCH_MARGIN`] (see the tests). The highest
//!   score wins; ties go to major before minor, then to the lower tonic.
//! * **Mode**: major keys are reported as Ionian and minor keys as Aeolian, with two
//!   refinements lo-fi needs: a minor key whose raised 6th outweighs its lowered 6th
//!   [`MODE_RATIO`] times over (and is present at all) is Dorian; a major key whose ♭7
//!   outweighs its leading tone the same way is Mixolydian. "Present" means at least
//!   [`PRESENT_FRACTION`] of the largest bin.
//! * **Enough evidence**: at least [`MIN_PITCH_CLASSES`] pitch classes present. One note, or
//!   an interval, gives no estimate.
//! * **Warm-up**: until the first bar line at which either [`FULL_SCALE`] = 7 pitch classes are
//!   present (a scale's worth of evidence) or [`WARMUP_BARS`] = 4 bar lines with enough
//!   evidence have passed (a phrase), the estimate is simply the best key of the evidence so
//!   far, live. A thin histogram is not worth holding on to: a lone Gm7 looks like B♭ major,
//!   Gm7–C7 like G Dorian, and only the Fmaj7 of a ii–V–I says F (and completes the seven
//!   notes of F major, ending the warm-up on F).
//! * **Hysteresis**: from the end of the warm-up on, the reported key changes only at bar lines,
//!   and only when **the same** other key scores at least [`SWITCH_MARGIN`] above it at
//!   [`SWITCH_BARS`] = 2 consecutive bar lines (a change of mode alone, e.g. Aeolian → Dorian
//!   on the same tonic, needs the bars but no margin). One bar of a foreign chord therefore
//!   never flips the key, nor do two bars that point at two different keys.
//!
//! Everything is fixed-size (`[f32; 12]` and a few scalars) and every loop is bounded (24
//! keys × 12 pitch classes), so all methods are safe on the audio thread.
//!
//! The Krumhansl–Kessler profiles are the probe-tone ratings of C. L. Krumhansl and
//! E. J. Kessler, "Tracing the dynamic changes in perceived tonal organization in a spatial
//! representation of musical keys", Psychological Review 89 (1982), 334–368, as tabulated in
//! C. L. Krumhansl, *Cognitive Foundations of Musical Pitch* (Oxford University Press, 1990),
//! p. 30; the key-finding algorithm is Krumhansl and Schmuckler's, described in the same book,
//! ch. 4.

use crate::music::progression::Mode;

/// Half-life of the histogram, in bars.
pub const HALF_LIFE_BARS: f32 = 4.0;
/// What [`KeyEstimator::end_bar`] multiplies the histogram by: 2^(−1/[`HALF_LIFE_BARS`]).
pub const DECAY_PER_BAR: f32 = 0.840_896_4;
/// How much a challenger must outscore the current key by (score units: a correlation plus
/// [`FIT_WEIGHT`] × a fraction).
pub const SWITCH_MARGIN: f32 = 0.05;
/// Consecutive bar lines at which the same key must beat the current one before it replaces it.
pub const SWITCH_BARS: u8 = 2;
/// Bar lines (with enough evidence) during which the estimate simply follows the best key.
pub const WARMUP_BARS: u8 = 4;
/// Pitch classes present (a full diatonic scale's worth) that end the warm-up early.
pub const FULL_SCALE: u32 = 7;
/// Pitch classes that must be present before there is any estimate.
pub const MIN_PITCH_CLASSES: u32 = 3;
/// Weight of the scale-fit term added to the Krumhansl–Schmuckler correlation.
pub const FIT_WEIGHT: f32 = 0.5;
/// How many times the Dorian 6th (Mixolydian 7th) must outweigh the Aeolian (Ionian) one.
pub const MODE_RATIO: f32 = 2.0;
/// Fraction of the largest bin a pitch class needs to count as present.
pub const PRESENT_FRACTION: f32 = 1.0 / 16.0;
/// The largest weight one [`KeyEstimator::add`] call counts.
pub const MAX_WEIGHT: f32 = 1.0e4;

/// Above this total weight the histogram is scaled down (its shape, all the estimate reads,
/// is unchanged; only reached if `end_bar` is never called).
const RESCALE_ABOVE: f32 = 1.0e6;
/// Below this total weight (after long silence) the histogram is cleared, so it never holds
/// denormal numbers; the current key is kept.
const CLEAR_BELOW: f32 = 1.0e-6;

/// Krumhansl–Kessler major-key profile, tonic first (C major: C, C♯, D, …).
const MAJOR_PROFILE: [f32; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
/// Krumhansl–Kessler minor-key profile, tonic first.
const MINOR_PROFILE: [f32; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];
/// The major scale, as a mask of semitones above the tonic.
const MAJOR_SCALE: u16 = 0b1010_1011_0101;
/// The natural minor scale, as a mask of semitones above the tonic.
const MINOR_SCALE: u16 = 0b0101_1010_1101;

/// A major or minor key, the unit the scores compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Family {
    /// Tonic pitch class.
    tonic: u8,
    /// Minor (Aeolian, Dorian) rather than major (Ionian, Mixolydian).
    minor: bool,
}

impl Family {
    /// The family of a reported mode.
    fn of(tonic: u8, mode: Mode) -> Family {
        Family {
            tonic,
            minor: matches!(
                mode,
                Mode::Aeolian | Mode::Dorian | Mode::Phrygian | Mode::Locrian
            ),
        }
    }
}

/// The best key of a histogram.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Estimate {
    /// Its major or minor key.
    family: Family,
    /// The mode reported for it.
    mode: Mode,
    /// Its score.
    score: f32,
    /// Pitch classes present in the histogram.
    present: u32,
}

/// A rolling key estimate from the notes the musician plays (Krumhansl–Schmuckler over a
/// decaying pitch-class histogram, with hysteresis so it does not flicker). See the module
/// docs for the method and its constants. All state is inline; `Copy`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyEstimator {
    /// Decaying weight per pitch class (0 = C): `add` adds, `end_bar` decays.
    histogram: [f32; 12],
    /// The established key and mode, fixed between bar lines.
    current: Option<(u8, Mode)>,
    /// Bar lines with enough evidence so far (saturating).
    bars_seen: u8,
    /// Whether the warm-up is over: from then on `current` is held by the hysteresis.
    warm: bool,
    /// The key that beat `current` by the margin at the last bar line(s), and at how many
    /// consecutive ones.
    challenger: Option<((u8, Mode), u8)>,
}

impl Default for KeyEstimator {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyEstimator {
    /// An estimator with no evidence.
    pub const fn new() -> KeyEstimator {
        KeyEstimator {
            histogram: [0.0; 12],
            current: None,
            bars_seen: 0,
            warm: false,
            challenger: None,
        }
    }

    /// Adds `weight` to `pitch_class` (taken mod 12). The weight is the note's sounding
    /// duration in beats (or 1 per onset; see the module docs). Non-finite or non-positive
    /// weights are ignored, larger ones than [`MAX_WEIGHT`] capped.
    pub fn add(&mut self, pitch_class: u8, weight: f32) {
        if !(weight.is_finite() && weight > 0.0) {
            return;
        }
        self.histogram[usize::from(pitch_class % 12)] += weight.min(MAX_WEIGHT);
        if self.total() > RESCALE_ABOVE {
            for h in &mut self.histogram {
                *h *= 1.0e-3;
            }
        }
    }

    /// Call at each bar line: re-examines the key (see the module docs' hysteresis), then
    /// decays the histogram by one bar ([`DECAY_PER_BAR`], a half-life of [`HALF_LIFE_BARS`]).
    pub fn end_bar(&mut self) {
        if let Some(best) = self.estimate() {
            self.examine(best);
        }
        for h in &mut self.histogram {
            *h *= DECAY_PER_BAR;
        }
        if self.total() < CLEAR_BELOW {
            self.histogram = [0.0; 12];
        }
    }

    /// The current estimate (key 0–11, mode) once there is enough evidence. Between bar lines
    /// the established key does not change; see the module docs.
    pub fn key(&self) -> Option<(u8, Mode)> {
        if self.warm {
            return self.current;
        }
        self.estimate()
            .map(|e| (e.family.tonic, e.mode))
            .or(self.current)
    }

    /// Forgets all evidence and the current key.
    pub fn reset(&mut self) {
        *self = KeyEstimator::new();
    }

    /// The hysteresis step at a bar line, given this bar's best key.
    fn examine(&mut self, best: Estimate) {
        let best_key = (best.family.tonic, best.mode);
        let current = match self.current {
            Some(current) if self.warm => current,
            _ => {
                // Warm-up: follow the best key.
                self.current = Some(best_key);
                self.bars_seen = self.bars_seen.saturating_add(1);
                self.warm = self.bars_seen >= WARMUP_BARS || best.present >= FULL_SCALE;
                self.challenger = None;
                return;
            }
        };
        let family = Family::of(current.0, current.1);
        let beaten = best_key != current
            && (best.family == family || best.score - self.score(family) >= SWITCH_MARGIN);
        if !beaten {
            self.challenger = None;
            return;
        }
        let bars = match self.challenger {
            Some((key, bars)) if key == best_key => bars.saturating_add(1),
            _ => 1,
        };
        if bars >= SWITCH_BARS {
            self.current = Some(best_key);
            self.challenger = None;
        } else {
            self.challenger = Some((best_key, bars));
        }
    }

    /// Sum of the histogram.
    fn total(&self) -> f32 {
        self.histogram.iter().sum()
    }

    /// The best-scoring key and its mode, or None without enough evidence.
    fn estimate(&self) -> Option<Estimate> {
        let max = self.histogram.iter().fold(0.0f32, |m, &h| m.max(h));
        let present = self
            .histogram
            .iter()
            .filter(|&&h| h > 0.0 && h >= max * PRESENT_FRACTION)
            .count() as u32;
        if present < MIN_PITCH_CLASSES {
            return None;
        }
        let mut best: Option<(Family, f32)> = None;
        for minor in [false, true] {
            for tonic in 0..12u8 {
                let family = Family { tonic, minor };
                let score = self.score(family);
                if best.is_none_or(|(_, s)| score > s) {
                    best = Some((family, score));
                }
            }
        }
        let (family, score) = best?;
        Some(Estimate {
            family,
            mode: self.mode_of(family, max),
            score,
            present,
        })
    }

    /// The Krumhansl–Schmuckler correlation of `family` plus the scale-fit term.
    fn score(&self, family: Family) -> f32 {
        let (profile, scale) = if family.minor {
            (&MINOR_PROFILE, MINOR_SCALE)
        } else {
            (&MAJOR_PROFILE, MAJOR_SCALE)
        };
        let total = self.total();
        if total <= 0.0 || total.is_nan() {
            return 0.0;
        }
        let mean_h = total / 12.0;
        let mean_p = profile.iter().sum::<f32>() / 12.0;
        let (mut cov, mut var_h, mut var_p, mut inside) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        for (i, &p) in profile.iter().enumerate() {
            let h = self.histogram[(usize::from(family.tonic) + i) % 12];
            cov += (h - mean_h) * (p - mean_p);
            var_h += (h - mean_h) * (h - mean_h);
            var_p += (p - mean_p) * (p - mean_p);
            if scale & (1 << i) != 0 {
                inside += h;
            }
        }
        let r = if var_h > 0.0 {
            cov / (var_h * var_p).sqrt()
        } else {
            0.0
        };
        r + FIT_WEIGHT * inside / total
    }

    /// The mode reported for `family`: Ionian or Aeolian, or Mixolydian or Dorian by the rule
    /// in the module docs. `max` is the largest bin.
    fn mode_of(&self, family: Family, max: f32) -> Mode {
        let at = |semitones: usize| self.histogram[(usize::from(family.tonic) + semitones) % 12];
        // The tone that marks the brighter mode, and the one it replaces.
        let (marker, usual) = if family.minor {
            (at(9), at(8))
        } else {
            (at(10), at(11))
        };
        let refined =
            marker > 0.0 && marker >= max * PRESENT_FRACTION && marker > MODE_RATIO * usual;
        match (family.minor, refined) {
            (false, false) => Mode::Ionian,
            (false, true) => Mode::Mixolydian,
            (true, false) => Mode::Aeolian,
            (true, true) => Mode::Dorian,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pitch class of a note name like "C", "F#", "Bb".
    fn pc(name: &str) -> u8 {
        const NAMES: [&str; 12] = [
            "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
        ];
        const ALIASES: [(&str, &str); 5] = [
            ("Db", "C#"),
            ("D#", "Eb"),
            ("Gb", "F#"),
            ("G#", "Ab"),
            ("A#", "Bb"),
        ];
        let name = ALIASES
            .iter()
            .find(|(a, _)| *a == name)
            .map_or(name, |(_, n)| n);
        NAMES.iter().position(|n| *n == name).unwrap() as u8
    }

    /// Adds each note of `notes` (space-separated names) with `weight`.
    fn play(k: &mut KeyEstimator, notes: &str, weight: f32) {
        for n in notes.split_whitespace() {
            k.add(pc(n), weight);
        }
    }

    /// Plays one chord per bar, each note held the whole 4-beat bar, with a bar line after each.
    fn bars(k: &mut KeyEstimator, chords: &[&str]) {
        for chord in chords {
            play(k, chord, 4.0);
            k.end_bar();
        }
    }

    fn key(key: &str, mode: Mode) -> Option<(u8, Mode)> {
        Some((pc(key), mode))
    }

    #[test]
    fn profiles_and_scales_are_the_published_ones() {
        // Scale masks: major 0 2 4 5 7 9 11, natural minor 0 2 3 5 7 8 10.
        let bits = |m: u16| (0..12).filter(|k| m & (1 << k) != 0).collect::<Vec<_>>();
        assert_eq!(bits(MAJOR_SCALE), [0, 2, 4, 5, 7, 9, 11]);
        assert_eq!(bits(MINOR_SCALE), [0, 2, 3, 5, 7, 8, 10]);
        assert!((DECAY_PER_BAR.powf(HALF_LIFE_BARS) - 0.5).abs() < 1e-6);
        // The profiles' largest entries: tonic, then fifth, then the third.
        assert_eq!(MAJOR_PROFILE[0], 6.35);
        assert_eq!(MINOR_PROFILE[3], 5.38);
    }

    #[test]
    fn a_natural_minor_for_two_bars_is_a_aeolian() {
        let mut k = KeyEstimator::new();
        for _ in 0..2 {
            // Quarter notes, with A and E (tonic and fifth) held longer.
            play(&mut k, "A B C D E F G", 0.5);
            play(&mut k, "A E", 1.0);
            k.end_bar();
        }
        assert_eq!(k.key(), key("A", Mode::Aeolian));
        // Emphasis by repetition instead, one per onset, with or without bar lines.
        let mut k = KeyEstimator::new();
        play(&mut k, "A B C D E F G A E", 1.0);
        assert_eq!(k.key(), key("A", Mode::Aeolian));
        k.end_bar();
        play(&mut k, "A B C D E F G A E", 1.0);
        k.end_bar();
        assert_eq!(k.key(), key("A", Mode::Aeolian));
    }

    #[test]
    fn c_major_scale_is_c_ionian_with_or_without_bar_lines() {
        let mut k = KeyEstimator::new();
        play(&mut k, "C D E F G A B C", 1.0);
        assert_eq!(k.key(), key("C", Mode::Ionian));
        k.end_bar();
        assert_eq!(k.key(), key("C", Mode::Ionian));
        // The bare seven notes, each once, too.
        let mut k = KeyEstimator::new();
        play(&mut k, "C D E F G A B", 1.0);
        assert_eq!(k.key(), key("C", Mode::Ionian));
    }

    #[test]
    fn two_five_one_in_f_is_f_ionian() {
        let (ii, v, i) = ("G Bb D F", "C E G Bb", "F A C E");
        // One chord per bar, bar lines between.
        let mut k = KeyEstimator::new();
        bars(&mut k, &[ii, v, i]);
        assert_eq!(k.key(), key("F", Mode::Ionian));
        // The turnaround as usually played, the I held two bars, twice round.
        let mut k = KeyEstimator::new();
        bars(&mut k, &[ii, v, i, i, ii, v, i, i]);
        assert_eq!(k.key(), key("F", Mode::Ionian));
        // With a plain F triad for the I.
        let mut k = KeyEstimator::new();
        bars(&mut k, &[ii, v, "F A C"]);
        assert_eq!(k.key(), key("F", Mode::Ionian));
        // All in one bar, one per onset, no bar line; with a plain F triad too.
        for tonic_chord in [i, "F A C"] {
            let mut k = KeyEstimator::new();
            for chord in [ii, v, tonic_chord] {
                play(&mut k, chord, 1.0);
            }
            assert_eq!(k.key(), key("F", Mode::Ionian), "{tonic_chord}");
        }
    }

    #[test]
    fn plain_krumhansl_schmuckler_would_miss_the_two_five_one() {
        // Why the fit term is there: on Gm7 | C7 | Fmaj7, a bar each, the correlation alone
        // prefers C major, by a hair.
        let mut k = KeyEstimator::new();
        play(&mut k, "G Bb D F", 4.0);
        k.end_bar();
        play(&mut k, "C E G Bb", 4.0);
        k.end_bar();
        play(&mut k, "F A C E", 4.0);
        let f = Family {
            tonic: 5,
            minor: false,
        };
        let c = Family {
            tonic: 0,
            minor: false,
        };
        let fit = |k: &KeyEstimator, fam: Family| {
            let scale = if fam.minor { MINOR_SCALE } else { MAJOR_SCALE };
            (0..12)
                .filter(|i| scale & (1 << i) != 0)
                .map(|i| k.histogram[(usize::from(fam.tonic) + i) % 12])
                .sum::<f32>()
                / k.total()
        };
        let r = |fam| k.score(fam) - FIT_WEIGHT * fit(&k, fam);
        assert!(r(c) > r(f), "plain KS: C {} F {}", r(c), r(f));
        assert!(k.score(f) > k.score(c) + SWITCH_MARGIN);
    }

    #[test]
    fn one_bar_of_a_foreign_chord_does_not_flip_the_key() {
        for foreign in ["Ab C Eb", "E G# B", "F# A# C#", "Eb G Bb Db", "Db F Ab C"] {
            let mut k = KeyEstimator::new();
            bars(&mut k, &["C E G", "F A C", "G B D F", "C E G"]);
            assert_eq!(k.key(), key("C", Mode::Ionian));
            bars(&mut k, &[foreign]);
            assert_eq!(k.key(), key("C", Mode::Ionian), "after {foreign}");
            bars(&mut k, &["C E G", "F A C", "G B D", "C E G"]);
            assert_eq!(k.key(), key("C", Mode::Ionian), "after {foreign} and back");
            // Established by two bars of the scale instead (seven notes end the warm-up).
            let mut k = KeyEstimator::new();
            for _ in 0..2 {
                play(&mut k, "C D E F G A B C", 0.5);
                k.end_bar();
            }
            bars(&mut k, &[foreign]);
            assert_eq!(k.key(), key("C", Mode::Ionian), "scale, then {foreign}");
        }
    }

    #[test]
    fn a_lasting_change_of_key_is_followed() {
        let mut k = KeyEstimator::new();
        bars(&mut k, &["C E G", "F A C", "G B D F", "C E G"]);
        assert_eq!(k.key(), key("C", Mode::Ionian));
        // Modulate to Eb major: ii–V–I–I there, twice round.
        let turnaround = ["F Ab C Eb", "Bb D F Ab", "Eb G Bb D", "Eb G Bb D"];
        let mut seen = Vec::new();
        for chord in turnaround.iter().cycle().take(8) {
            bars(&mut k, &[chord]);
            seen.push(k.key().unwrap());
        }
        assert_eq!(k.key(), key("Eb", Mode::Ionian), "{seen:?}");
        // Not before two bar lines, and every change held for at least two.
        assert_eq!(seen[0], (0, Mode::Ionian));
        assert!(
            seen.windows(3).all(|w| w[0] == w[1] || w[1] == w[2]),
            "{seen:?}"
        );
    }

    #[test]
    fn the_key_changes_only_at_bar_lines_once_established() {
        let mut k = KeyEstimator::new();
        bars(&mut k, &["C E G", "F A C", "G B D", "C E G"]);
        assert_eq!(k.key(), key("C", Mode::Ionian));
        // A flood of Eb major within one bar: still C until the bar lines say otherwise.
        play(&mut k, "Eb G Bb Eb G Bb Ab C Eb", 8.0);
        assert_eq!(k.key(), key("C", Mode::Ionian));
    }

    #[test]
    fn dorian_and_mixolydian_by_their_characteristic_tones() {
        // The lo-fi Dorian vamp: i7–IV7. B (the raised 6th) and no Bb.
        let mut k = KeyEstimator::new();
        bars(&mut k, &["D F A C", "G B D F", "D F A C", "G B D F"]);
        assert_eq!(k.key(), key("D", Mode::Dorian));
        // I–bVII–IV–I, twice round: Bb and no B. (Its notes are F major's; once round, the
        // warm-up ends on F at the third bar, when all seven are in, and C needs two more bars.)
        let mut k = KeyEstimator::new();
        let loop_ = ["C E G", "Bb D F", "F A C", "C E G"];
        bars(&mut k, &loop_);
        assert_eq!(k.key(), key("F", Mode::Ionian));
        bars(&mut k, &loop_);
        assert_eq!(k.key(), key("C", Mode::Mixolydian));
        // Harmonic minor's leading tone does not make A minor anything else.
        let mut k = KeyEstimator::new();
        bars(&mut k, &["B D F A", "E G# B D", "A C E G", "A C E G"]);
        assert_eq!(k.key(), key("A", Mode::Aeolian));
    }

    #[test]
    fn common_progressions() {
        let cases: [(&[&str], &str, Mode); 9] = [
            (
                &["C E G B", "A C E G", "D F A C", "G B D F"],
                "C",
                Mode::Ionian,
            ),
            (&["G B D", "E G B", "C E G", "D F# A"], "G", Mode::Ionian),
            (&["D F A", "G Bb D", "A C E", "D F A"], "D", Mode::Aeolian),
            (&["A C E", "F A C", "C E G", "G B D"], "C", Mode::Ionian),
            (
                &["C E G", "A C E", "F A C", "G B D", "C E G"],
                "C",
                Mode::Ionian,
            ),
            (
                &["F A C E", "Bb D F A", "F A C E", "Bb D F A"],
                "F",
                Mode::Ionian,
            ),
            // i9–iv9 has F (Aeolian's 6th); i9–IV9 has F# (Dorian's).
            (
                &["A C E G B", "D F A C E", "A C E G B", "D F A C E"],
                "A",
                Mode::Aeolian,
            ),
            (
                &["A C E G B", "D F# A C E", "A C E G B", "D F# A C E"],
                "A",
                Mode::Dorian,
            ),
            (
                &["C Eb G", "Ab C Eb", "Bb D F", "C Eb G"],
                "C",
                Mode::Aeolian,
            ),
        ];
        for (chords, tonic, mode) in cases {
            let mut k = KeyEstimator::new();
            bars(&mut k, chords);
            assert_eq!(k.key(), key(tonic, mode), "{chords:?}");
        }
    }

    #[test]
    fn no_estimate_from_a_single_note_or_an_interval() {
        let mut k = KeyEstimator::new();
        assert_eq!(k.key(), None);
        k.add(0, 4.0);
        assert_eq!(k.key(), None);
        k.end_bar();
        k.add(0, 4.0);
        k.end_bar();
        assert_eq!(k.key(), None);
        k.add(7, 1.0);
        assert_eq!(k.key(), None);
        k.add(4, 1.0);
        assert!(k.key().is_some());
    }

    #[test]
    fn reset_clears_everything() {
        let mut k = KeyEstimator::new();
        bars(&mut k, &["C E G", "F A C", "G B D"]);
        assert!(k.key().is_some());
        k.reset();
        assert_eq!(k.key(), None);
        assert_eq!(k, KeyEstimator::new());
        assert_eq!(KeyEstimator::default(), KeyEstimator::new());
        // And it estimates afresh.
        bars(&mut k, &["A C E", "D F A", "E G# B"]);
        assert_eq!(k.key(), key("A", Mode::Aeolian));
    }

    #[test]
    fn hostile_input_is_harmless() {
        let mut k = KeyEstimator::new();
        for w in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -1.0, 0.0, -0.0] {
            k.add(3, w);
        }
        assert_eq!(k, KeyEstimator::new());
        // Out-of-range pitch classes wrap; huge weights are capped and rescaled.
        for i in 0..1000u32 {
            k.add((i % 256) as u8, f32::MAX);
        }
        assert!(k.histogram.iter().all(|h| h.is_finite()));
        assert!(k.key().is_some());
        // Long silence: the histogram empties (no denormals), the key stays.
        let before = k.key();
        for _ in 0..10_000 {
            k.end_bar();
        }
        assert!(k.histogram.iter().all(|&h| h == 0.0));
        assert_eq!(k.key(), before);
    }
}
