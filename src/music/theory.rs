//! Music theory: note and chord names, and lo-fi jazz voicings with voice leading.
//!
//! Pure functions of [`Chord`], key and [`Mode`]; nothing here knows about plugins, threads or
//! phrases, and nothing allocates, so [`crate::music::render`] can call it on a pooled phrase.
//!
//! # The voicing rule
//!
//! 1. **Extensions by quality** (see [`voiced_symbol`] for the resulting names):
//!
//!    | quality           | wanted                   | when an added tone is not diatonic-safe  |
//!    |-------------------|--------------------------|------------------------------------------|
//!    | `Major7`          | maj9 (1 3 5 7 9)         | maj7                                     |
//!    | `Minor7`          | m9 (1 ♭3 5 ♭7 9)         | m7(11) (1 ♭3 5 ♭7 11), else m7           |
//!    | `Dominant7`       | 13 (1 3 ♭7 9 13, no 5th) | 9 (1 3 5 ♭7 9) if the 9 is safe, else 7  |
//!    | `HalfDiminished7` | m7♭5(11) (1 ♭3 ♭5 ♭7 11) | m7♭5                                     |
//!    | `Major`           | add9 (1 3 5 9)           | triad                                    |
//!    | `Minor`           | madd9 (1 ♭3 5 9)         | madd11 (1 ♭3 5 11), else triad           |
//!    | `Diminished`      | dim7 (1 ♭3 ♭5 𝄫7)        | dim triad                                |
//!    | `Sus4`            | 9sus4 (1 4 5 ♭7 9)       | 7sus4, sus4add9 or sus4: the safe ones   |
//!
//!    An added tone (anything beyond the quality's own triad or seventh) is *diatonic-safe* when
//!    its pitch class is in the progression's mode scale, whatever the chord's root. So the
//!    Phrygian i (or Ionian iii, Dorian ii) gets no natural 9, because the mode has a ♭9 there,
//!    and a borrowed ♭VI in Ionian stays a plain maj7. A ♭9 is never added: it clashes with the
//!    root the bass plays.
//! 2. **Rootless when full**: when the chord has at least four tones besides its root (every
//!    extended seventh chord above), the root is left out: the bass plays it, and the four upper
//!    tones are the classic rootless jazz voicing. Smaller chords keep the root as a voice.
//! 3. **Placement**: the candidates are the close-position stacks of the voice pitch classes
//!    (every rotation, i.e. every inversion, at every octave) lying wholly inside the
//!    [`Register`]. A candidate whose top two voices are a semitone apart is skipped (it blurs
//!    the top voice the ear follows) unless nothing else fits.
//! 4. **Voice leading**: the chosen candidate minimises the movement from the previous voicing:
//!    for each voice of either chord, the distance in semitones to the nearest voice of the other
//!    chord, summed (this also works when the chords have different numbers of voices). Ties, and
//!    the first chord (no previous voicing), go to the candidate whose mean key is nearest the
//!    register centre, then to the lowest bottom key.

use crate::music::progression::{Chord, Mode, Quality};
use std::fmt;

/// Most voices in a [`Voicing`].
pub const MAX_VOICES: usize = 6;

/// Pitch-class names spelled with sharps.
const SHARP_NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];
/// Pitch-class names spelled with flats.
const FLAT_NAMES: [&str; 12] = [
    "C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B",
];
/// Major keys (as pitch classes) written with flats: Db, Eb, F, Gb, Ab, Bb.
const FLAT_MAJOR_KEYS: [u8; 6] = [1, 3, 5, 6, 8, 10];

/// Whether black keys are named as sharps or flats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spelling {
    /// C♯, D♯, F♯, G♯, A♯.
    Sharps,
    /// D♭, E♭, G♭, A♭, B♭.
    Flats,
}

/// The name of pitch class `pitch_class` (0 = C; taken mod 12).
pub fn pitch_name(pitch_class: u8, spelling: Spelling) -> &'static str {
    let names = match spelling {
        Spelling::Sharps => &SHARP_NAMES,
        Spelling::Flats => &FLAT_NAMES,
    };
    names[(pitch_class % 12) as usize]
}

/// How a key is spelled: flats when its relative major (the Ionian with the same notes) is
/// Db, Eb, F, Gb, Ab or Bb, sharps otherwise. E.g. C Dorian and G Aeolian use flats (their
/// relative majors are Bb); A Aeolian, like C Ionian, needs neither. Six-accidental keys pick
/// flats (Gb, Eb minor), which are the commoner spellings in lo-fi charts.
pub fn key_spelling(key: u8, mode: Mode) -> Spelling {
    let mode_offset = Mode::Ionian.scale()[mode.index()] as u8;
    let relative_major = (key % 12 + 12 - mode_offset) % 12;
    if FLAT_MAJOR_KEYS.contains(&relative_major) {
        Spelling::Flats
    } else {
        Spelling::Sharps
    }
}

/// The tonic's name in its own spelling, e.g. "Eb" for key 3 in Ionian.
pub fn key_name(key: u8, mode: Mode) -> &'static str {
    pitch_name(key, key_spelling(key, mode))
}

/// The chord's root as a pitch class (0 = C … 11 = B).
pub fn root_pitch_class(chord: Chord, key: u8, mode: Mode) -> u8 {
    (key % 12 + chord.root_semitones(mode)) % 12
}

/// A chord symbol ready to show, e.g. "Dm9"; [`fmt::Display`] joins its two parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChordName {
    /// The root's name, e.g. "Eb".
    pub root: &'static str,
    /// The quality and extensions, e.g. "maj9"; empty for a major triad.
    pub suffix: &'static str,
}

impl fmt::Display for ChordName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.root, self.suffix)
    }
}

/// The root name of a chord: lowered chords (♭VII) use flats, raised ones (♯IV) sharps, and
/// diatonic ones the key's spelling.
fn root_name(chord: Chord, key: u8, mode: Mode) -> &'static str {
    let spelling = match chord.shift.signum() {
        -1 => Spelling::Flats,
        1 => Spelling::Sharps,
        _ => key_spelling(key, mode),
    };
    pitch_name(root_pitch_class(chord, key, mode), spelling)
}

/// The plain symbol of a chord's quality, e.g. degree 2 `Minor7` in C Ionian → "Dm7".
pub fn chord_symbol(chord: Chord, key: u8, mode: Mode) -> ChordName {
    ChordName {
        root: root_name(chord, key, mode),
        suffix: chord.quality.suffix(),
    }
}

/// The symbol of the chord [`voice`] plays, with its extensions, e.g. "Dm9", "G13", "Cmaj9".
pub fn voiced_symbol(chord: Chord, key: u8, mode: Mode) -> ChordName {
    ChordName {
        root: root_name(chord, key, mode),
        suffix: chord_tones(chord, mode).1,
    }
}

/// Semitones from the root to the 9th.
const NINTH: u8 = 14;
/// Semitones from the root to the 11th.
const ELEVENTH: u8 = 17;
/// Semitones from the root to the 13th.
const THIRTEENTH: u8 = 21;
/// Semitones from the root to the minor 7th.
const MINOR_SEVENTH: u8 = 10;
/// Semitones from the root to the diminished 7th.
const DIMINISHED_SEVENTH: u8 = 9;

/// Whether the tone `interval` semitones above the chord's root is in the mode's scale.
fn diatonic_safe(chord: Chord, mode: Mode, interval: u8) -> bool {
    let pitch = ((chord.root_semitones(mode) + interval) % 12) as i8;
    mode.scale().contains(&pitch)
}

/// The chord's tones (semitones above the root, ascending) and symbol suffix, per the table in
/// the module docs.
fn chord_tones(chord: Chord, mode: Mode) -> (&'static [u8], &'static str) {
    let safe = |interval| diatonic_safe(chord, mode, interval);
    match chord.quality {
        Quality::Major7 if safe(NINTH) => (&[0, 4, 7, 11, 14], "maj9"),
        Quality::Major7 => (&[0, 4, 7, 11], "maj7"),
        Quality::Minor7 if safe(NINTH) => (&[0, 3, 7, 10, 14], "m9"),
        Quality::Minor7 if safe(ELEVENTH) => (&[0, 3, 7, 10, 17], "m7(11)"),
        Quality::Minor7 => (&[0, 3, 7, 10], "m7"),
        Quality::Dominant7 if safe(NINTH) && safe(THIRTEENTH) => (&[0, 4, 10, 14, 21], "13"),
        Quality::Dominant7 if safe(NINTH) => (&[0, 4, 7, 10, 14], "9"),
        Quality::Dominant7 => (&[0, 4, 7, 10], "7"),
        Quality::HalfDiminished7 if safe(ELEVENTH) => (&[0, 3, 6, 10, 17], "m7b5(11)"),
        Quality::HalfDiminished7 => (&[0, 3, 6, 10], "m7b5"),
        Quality::Major if safe(NINTH) => (&[0, 4, 7, 14], "add9"),
        Quality::Major => (&[0, 4, 7], ""),
        Quality::Minor if safe(NINTH) => (&[0, 3, 7, 14], "madd9"),
        Quality::Minor if safe(ELEVENTH) => (&[0, 3, 7, 17], "madd11"),
        Quality::Minor => (&[0, 3, 7], "m"),
        Quality::Diminished if safe(DIMINISHED_SEVENTH) => (&[0, 3, 6, 9], "dim7"),
        Quality::Diminished => (&[0, 3, 6], "dim"),
        Quality::Sus4 => sus4_tones(safe(MINOR_SEVENTH), safe(NINTH)),
    }
}

/// Sus4 keeps whichever of its ♭7 and 9 are diatonic-safe.
fn sus4_tones(seventh: bool, ninth: bool) -> (&'static [u8], &'static str) {
    match (seventh, ninth) {
        (true, true) => (&[0, 5, 7, 10, 14], "9sus4"),
        (true, false) => (&[0, 5, 7, 10], "7sus4"),
        (false, true) => (&[0, 5, 7, 14], "sus4add9"),
        (false, false) => (&[0, 5, 7], "sus4"),
    }
}

/// The range of MIDI keys a voicing may use, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Register {
    /// Lowest allowed MIDI key.
    pub low_key: u8,
    /// Highest allowed MIDI key.
    pub high_key: u8,
}

impl Register {
    /// The chord register: C3–E5 (48–76), above the bass and around the melody's tonic.
    pub const CHORDS: Register = Register {
        low_key: 48,
        high_key: 76,
    };
}

/// A voiced chord: up to [`MAX_VOICES`] MIDI keys, ascending, stored inline (no heap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Voicing {
    /// The keys; only the first `len` are used.
    keys: [u8; MAX_VOICES],
    /// Number of voices in use.
    len: u8,
}

impl Voicing {
    /// A voicing of the given keys (at most [`MAX_VOICES`]; extra keys are ignored), sorted.
    pub fn from_keys(keys: &[u8]) -> Voicing {
        let mut v = Voicing::default();
        for &k in keys.iter().take(MAX_VOICES) {
            v.keys[v.len as usize] = k;
            v.len += 1;
        }
        v.keys[..v.len as usize].sort_unstable();
        v
    }

    /// The keys, lowest first.
    pub fn keys(&self) -> &[u8] {
        &self.keys[..self.len as usize]
    }
}

/// Pitch classes to voice, ascending and distinct, stored inline.
#[derive(Clone, Copy)]
struct PitchClasses {
    /// The pitch classes; only the first `len` are used.
    pcs: [u8; MAX_VOICES],
    /// Number in use.
    len: usize,
}

/// The pitch classes a chord is voiced with: its tones, rootless when full (rule 2).
fn voice_pitch_classes(chord: Chord, key: u8, mode: Mode) -> PitchClasses {
    let (tones, _) = chord_tones(chord, mode);
    let root = root_pitch_class(chord, key, mode);
    let rootless = tones.len() >= 5;
    let mut out = PitchClasses {
        pcs: [0; MAX_VOICES],
        len: 0,
    };
    for &t in tones.iter().skip(usize::from(rootless)).take(MAX_VOICES) {
        out.pcs[out.len] = (root + t) % 12;
        out.len += 1;
    }
    out.pcs[..out.len].sort_unstable();
    out
}

/// Voices `chord` in `register`, led smoothly from `previous` (see the module docs for the
/// rule). With no previous voicing (or an empty one) the chord is centred in the register.
pub fn voice(
    chord: Chord,
    key: u8,
    mode: Mode,
    previous: Option<&Voicing>,
    register: Register,
) -> Voicing {
    let pcs = voice_pitch_classes(chord, key, mode);
    let previous = previous.filter(|p| !p.keys().is_empty());
    best_candidate(&pcs, previous, register, true)
        .or_else(|| best_candidate(&pcs, previous, register, false))
        .unwrap_or_else(|| fallback_stack(&pcs, register))
}

/// The close-position stack of `pcs` starting from rotation `rotation`, with its bottom key at
/// `bottom_key` (which must have the pitch class `pcs[rotation]`).
fn stack(pcs: &PitchClasses, rotation: usize, bottom_key: u32) -> [u32; MAX_VOICES] {
    let mut keys = [0u32; MAX_VOICES];
    let first = pcs.pcs[rotation];
    for (j, k) in keys.iter_mut().take(pcs.len).enumerate() {
        let pc = pcs.pcs[(rotation + j) % pcs.len];
        *k = bottom_key + u32::from((pc + 12 - first) % 12);
    }
    keys
}

/// The lowest-scoring candidate inside the register, or None if none fits. With
/// `skip_top_semitone`, candidates whose top two voices are a semitone apart are left out.
fn best_candidate(
    pcs: &PitchClasses,
    previous: Option<&Voicing>,
    register: Register,
    skip_top_semitone: bool,
) -> Option<Voicing> {
    let n = pcs.len;
    if n == 0 {
        return None;
    }
    let mut best: Option<((u32, u32, u32), Voicing)> = None;
    for rotation in 0..n {
        let lowest_pc = u32::from(pcs.pcs[rotation]);
        for bottom in u32::from(register.low_key)..=u32::from(register.high_key) {
            if bottom % 12 != lowest_pc {
                continue;
            }
            let keys = stack(pcs, rotation, bottom);
            if keys[n - 1] > u32::from(register.high_key) {
                break;
            }
            if skip_top_semitone && n >= 2 && keys[n - 1] - keys[n - 2] == 1 {
                continue;
            }
            let candidate = voicing_of(&keys[..n]);
            let score = score(&candidate, previous, register);
            if best.is_none_or(|(s, _)| score < s) {
                best = Some((score, candidate));
            }
        }
    }
    best.map(|(_, v)| v)
}

/// Sort key of a candidate, lowest wins: movement from the previous voicing, distance of the
/// mean key from the register centre (×2n so it stays an integer), bottom key.
fn score(candidate: &Voicing, previous: Option<&Voicing>, register: Register) -> (u32, u32, u32) {
    let keys = candidate.keys();
    let movement = previous.map_or(0, |p| movement(keys, p.keys()));
    let sum: u32 = keys.iter().map(|&k| u32::from(k)).sum();
    let centre_x2n =
        keys.len() as u32 * (u32::from(register.low_key) + u32::from(register.high_key));
    let off_centre = (2 * sum).abs_diff(centre_x2n);
    (
        movement,
        off_centre,
        keys.first().map_or(0, |&k| u32::from(k)),
    )
}

/// Voice-leading distance: each voice of either chord to the nearest voice of the other, summed.
fn movement(a: &[u8], b: &[u8]) -> u32 {
    nearest_sum(a, b) + nearest_sum(b, a)
}

/// Sum over `from` of the distance in semitones to the nearest key in `to`.
fn nearest_sum(from: &[u8], to: &[u8]) -> u32 {
    from.iter()
        .map(|&f| {
            to.iter()
                .map(|&t| u32::from(f.abs_diff(t)))
                .min()
                .unwrap_or(0)
        })
        .sum()
}

/// A voicing of `keys`, dropping any that are not valid MIDI keys (above 127).
fn voicing_of(keys: &[u32]) -> Voicing {
    let mut v = Voicing::default();
    for &k in keys.iter().take(MAX_VOICES) {
        if let Some(k) = u8::try_from(k).ok().filter(|&k| k < 128) {
            v.keys[v.len as usize] = k;
            v.len += 1;
        }
    }
    v
}

/// For a register too narrow for any candidate: rotation 0 stacked up from the register's
/// bottom key (it overshoots the top; keys above 127 are dropped).
fn fallback_stack(pcs: &PitchClasses, register: Register) -> Voicing {
    if pcs.len == 0 {
        return Voicing::default();
    }
    let low = u32::from(register.low_key);
    let bottom = low + (u32::from(pcs.pcs[0]) + 12 - low % 12) % 12;
    voicing_of(&stack(pcs, 0, bottom)[..pcs.len])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chord(degree: u8, shift: i8, quality: Quality) -> Chord {
        Chord {
            degree,
            shift,
            quality,
        }
    }

    /// Voices diatonic chords on `degrees` in turn, each led from the one before; returns the
    /// keys and voiced names.
    fn voice_run(key: u8, mode: Mode, degrees: &[u8]) -> Vec<(Vec<u8>, String)> {
        let mut previous: Option<Voicing> = None;
        let mut out = Vec::new();
        for &d in degrees {
            let c = Chord::diatonic(mode, d);
            let v = voice(c, key, mode, previous.as_ref(), Register::CHORDS);
            out.push((v.keys().to_vec(), voiced_symbol(c, key, mode).to_string()));
            previous = Some(v);
        }
        out
    }

    // The expected keys below were worked out by hand from the rule in the module docs: list
    // each rotation of the voice pitch classes at each octave in 48–76, drop those with a
    // semitone on top, then score (nearest-voice movement, distance from the centre 62).

    #[test]
    fn two_five_one_in_c_ionian() {
        // Dm9 rootless F A C E: C4 E4 F4 A4 (mean 64.5) is nearest the centre once A C E F
        // (E–F on top) is skipped. G13 rootless B E F A: only C moves, to B. Cmaj9 rootless
        // E G B D: B D E G moves 7 in all, the next best 12.
        assert_eq!(
            voice_run(0, Mode::Ionian, &[2, 5, 1]),
            [
                (vec![60, 64, 65, 69], "Dm9".to_string()),
                (vec![59, 64, 65, 69], "G13".to_string()),
                (vec![59, 62, 64, 67], "Cmaj9".to_string()),
            ]
        );
    }

    #[test]
    fn aeolian_i_iv_vii_iii_in_a_minor() {
        // Am9 rootless C E G B: B3 C4 E4 G4 (mean 62.5). Dm9 from there: C4 E4 F4 A4 moves 6.
        // G13 and Cmaj9 as in C Ionian (same notes).
        assert_eq!(
            voice_run(9, Mode::Aeolian, &[1, 4, 7, 3]),
            [
                (vec![59, 60, 64, 67], "Am9".to_string()),
                (vec![60, 64, 65, 69], "Dm9".to_string()),
                (vec![59, 64, 65, 69], "G13".to_string()),
                (vec![59, 62, 64, 67], "Cmaj9".to_string()),
            ]
        );
    }

    #[test]
    fn dorian_i_iv_ii_in_a() {
        // A Dorian: A B C D E F# G. Am9 as in Aeolian; the Dorian IV is a dominant: D13
        // rootless F# C E B, G4 → F#4 only. The ii has a ♭9 (C) in the mode, so no C#:
        // Bm7(11) rootless D F# A E, A3 D4 E4 F#4 moves 8 (G4 E4 F#4 A4 would move 10).
        assert_eq!(
            voice_run(9, Mode::Dorian, &[1, 4, 2]),
            [
                (vec![59, 60, 64, 67], "Am9".to_string()),
                (vec![59, 60, 64, 66], "D13".to_string()),
                (vec![57, 62, 64, 66], "Bm7(11)".to_string()),
            ]
        );
    }

    #[test]
    fn phrygian_i_gets_no_natural_ninth() {
        // E Phrygian: E F G A B C D. The i has F (♭9) in the mode, so no F#; the 11 (A) comes
        // in: Em7(11) rootless G B D A, A3 B3 D4 G4 (mean 61.25). Fmaj9 rootless A C E G:
        // A3 C4 E4 G4 moves 6.
        let run = voice_run(4, Mode::Phrygian, &[1, 2]);
        assert_eq!(
            run,
            [
                (vec![57, 59, 62, 67], "Em7(11)".to_string()),
                (vec![57, 60, 64, 67], "Fmaj9".to_string()),
            ]
        );
        assert!(
            run[0].0.iter().all(|k| k % 12 != 6),
            "no F# over Phrygian i"
        );
    }

    #[test]
    fn locrian_i_and_chromatic_chords_follow_the_scale() {
        // B Locrian i: C (♭9) in the mode, E (11) safe.
        let i = Chord::diatonic(Mode::Locrian, 1);
        assert_eq!(voiced_symbol(i, 11, Mode::Locrian).to_string(), "Bm7b5(11)");
        let keys = voice(i, 11, Mode::Locrian, None, Register::CHORDS);
        assert!(
            keys.keys().iter().all(|k| k % 12 != 1),
            "no C# over Locrian i"
        );
        // C Ionian: A7 (V/ii) has B but not F#: a 9. E7 (V/vi) has neither F# nor C#: a 7.
        assert_eq!(
            voiced_symbol(chord(6, 0, Quality::Dominant7), 0, Mode::Ionian).to_string(),
            "A9"
        );
        assert_eq!(
            voiced_symbol(chord(3, 0, Quality::Dominant7), 0, Mode::Ionian).to_string(),
            "E7"
        );
        // Borrowed ♭VI: its 9 (Bb) is not in C Ionian.
        assert_eq!(
            voiced_symbol(chord(6, -1, Quality::Major7), 0, Mode::Ionian).to_string(),
            "Abmaj7"
        );
        // Triads: Bb (♭VII) add9, Ionian vii dim stays a triad (Ab is not in C Ionian).
        assert_eq!(
            voiced_symbol(chord(7, -1, Quality::Major), 0, Mode::Ionian).to_string(),
            "Bbadd9"
        );
        assert_eq!(
            voiced_symbol(chord(7, 0, Quality::Diminished), 0, Mode::Ionian).to_string(),
            "Bdim"
        );
        assert_eq!(
            voiced_symbol(chord(5, 0, Quality::Sus4), 0, Mode::Ionian).to_string(),
            "G9sus4"
        );
        assert_eq!(
            voiced_symbol(chord(1, 0, Quality::Sus4), 0, Mode::Ionian).to_string(),
            "Csus4add9"
        );
    }

    #[test]
    fn small_chords_keep_their_root() {
        // Bdim in C Ionian: B D F, centred: B3 D4 F4 (mean exactly 62); D F B and F B D sit
        // further from it.
        let v = voice(
            chord(7, 0, Quality::Diminished),
            0,
            Mode::Ionian,
            None,
            Register::CHORDS,
        );
        assert_eq!(v.keys(), [59, 62, 65]);
    }

    #[test]
    fn chord_symbols_in_several_keys() {
        let sym =
            |key, mode, degree| chord_symbol(Chord::diatonic(mode, degree), key, mode).to_string();
        assert_eq!(sym(0, Mode::Ionian, 2), "Dm7");
        assert_eq!(sym(10, Mode::Ionian, 4), "Ebmaj7");
        assert_eq!(sym(3, Mode::Ionian, 5), "Bb7");
        assert_eq!(sym(5, Mode::Ionian, 2), "Gm7");
        assert_eq!(sym(4, Mode::Ionian, 3), "G#m7");
        assert_eq!(sym(9, Mode::Aeolian, 7), "G7");
        assert_eq!(sym(0, Mode::Dorian, 3), "Ebmaj7");
        assert_eq!(sym(2, Mode::Phrygian, 2), "Ebmaj7");
        assert_eq!(sym(3, Mode::Aeolian, 1), "Ebm7");
        assert_eq!(sym(0, Mode::Ionian, 7), "Bm7b5");
        let fsharp_dim = chord(4, 1, Quality::Diminished);
        assert_eq!(
            chord_symbol(fsharp_dim, 0, Mode::Ionian).to_string(),
            "F#dim"
        );
        assert_eq!(key_name(10, Mode::Ionian), "Bb");
        assert_eq!(key_name(9, Mode::Aeolian), "A");
        assert_eq!(key_name(1, Mode::Dorian), "C#");
        assert_eq!(pitch_name(13, Spelling::Flats), "Db");
    }

    #[test]
    fn previous_voicing_is_respected_and_register_holds() {
        // Cmaj9 led from a high G13 (F4 A4 B4 E5): G4 B4 D5 E5 moves 4 + 4 = 8, E4 G4 B4 D5
        // moves 5 + 5 = 10.
        let high = Voicing::from_keys(&[76, 65, 69, 71]);
        assert_eq!(high.keys(), [65, 69, 71, 76]);
        let c = Chord::diatonic(Mode::Ionian, 1);
        let v = voice(c, 0, Mode::Ionian, Some(&high), Register::CHORDS);
        assert_eq!(v.keys(), [67, 71, 74, 76]);
        // Whatever the chord, the voicing stays in the register with at least three voices.
        for q in Quality::ALL {
            for d in 1..=7 {
                for (key, mode) in [(0, Mode::Ionian), (4, Mode::Phrygian), (11, Mode::Locrian)] {
                    let v = voice(chord(d, 0, q), key, mode, Some(&high), Register::CHORDS);
                    assert!(v.keys().len() >= 3);
                    assert!(v.keys().iter().all(|&k| (48..=76).contains(&k)), "{v:?}");
                }
            }
        }
    }

    #[test]
    fn too_narrow_register_still_gives_keys() {
        let narrow = Register {
            low_key: 60,
            high_key: 63,
        };
        let v = voice(
            Chord::diatonic(Mode::Ionian, 2),
            0,
            Mode::Ionian,
            None,
            narrow,
        );
        // Rotation 0 of C E F A stacked from C4.
        assert_eq!(v.keys(), [60, 64, 65, 69]);
    }
}
