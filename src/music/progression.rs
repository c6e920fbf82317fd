//! The token vocabulary Lofi Loom's music is written in, and its JSON forms.
//!
//! A [`Progression`] is what the decoder emits and what [`crate::music::render`] turns into notes:
//! a key, a mode, and a list of bars. The grid is fixed and lives here so that changing it is
//! cheap:
//!
//! * the phrase is written in 4/4: [`BEATS_PER_BAR`] quarter notes per bar (a host in another
//!   time signature stretches each bar to its own bar length, so chords stay on its bar lines);
//! * [`CHORDS_PER_BAR`] chord per bar;
//! * [`STEPS_PER_CHORD`] melody steps per chord, i.e. an eighth-note grid ([`STEP_BEATS`] = ½ beat).
//!
//! Chords are Roman numerals relative to the key: a scale degree of the mode (1–7), optionally
//! raised or lowered a semitone (borrowed and secondary chords), and a [`Quality`]. Melody steps
//! are a rest, a hold (tie the previous note on), or a pitch in semitones relative to the tonic
//! ([`MELODY_MIN`]..=[`MELODY_MAX`], three octaves).
//!
//! Two JSON forms are read: Lofi Loom's own (serde of [`Progression`]) and the LOFI sample
//! format (`key` 1–12, `mode` 1–7, `chords` 1–7 with 0 = rest, `melodies` of eight scale degrees
//! 1–15 per chord with 0 = rest). Malformed input is rejected with a message naming the field.

use serde::{Deserialize, Serialize};

/// Quarter notes in one bar of a phrase (phrases are written in 4/4).
pub const BEATS_PER_BAR: u32 = 4;
/// Chords in one bar.
pub const CHORDS_PER_BAR: u32 = 1;
/// Melody steps under each chord: eighth notes.
pub const STEPS_PER_CHORD: usize = 8;
/// Length of one melody step in quarter-note beats.
pub const STEP_BEATS: f64 = BEATS_PER_BAR as f64 / (CHORDS_PER_BAR as f64 * STEPS_PER_CHORD as f64);
/// Length of an eighth note in beats: the unit swing works on, in every part.
pub const EIGHTH_BEATS: f64 = 0.5;
/// The longest phrase, in bars.
pub const MAX_BARS: usize = 8;
/// Lowest melody pitch, in semitones relative to the tonic (an octave below it).
pub const MELODY_MIN: i8 = -12;
/// Highest melody pitch, in semitones relative to the tonic (two octaves above it).
pub const MELODY_MAX: i8 = 24;

/// The seven diatonic modes, brightest last-but-one (Lydian) to darkest (Locrian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// Major: 1 2 3 4 5 6 7.
    Ionian,
    /// Minor with a raised 6th: 1 2 ♭3 4 5 6 ♭7.
    Dorian,
    /// Minor with a lowered 2nd: 1 ♭2 ♭3 4 5 ♭6 ♭7.
    Phrygian,
    /// Major with a raised 4th: 1 2 3 ♯4 5 6 7.
    Lydian,
    /// Major with a lowered 7th: 1 2 3 4 5 6 ♭7.
    Mixolydian,
    /// Natural minor: 1 2 ♭3 4 5 ♭6 ♭7.
    Aeolian,
    /// Diminished: 1 ♭2 ♭3 4 ♭5 ♭6 ♭7.
    Locrian,
}

impl Mode {
    /// All modes in LOFI order (1 = Ionian … 7 = Locrian).
    pub const ALL: [Mode; 7] = [
        Mode::Ionian,
        Mode::Dorian,
        Mode::Phrygian,
        Mode::Lydian,
        Mode::Mixolydian,
        Mode::Aeolian,
        Mode::Locrian,
    ];

    /// Index 0–6 in [`Mode::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Semitones above the tonic of the seven scale degrees.
    pub fn scale(self) -> [i8; 7] {
        const IONIAN: [i8; 7] = [0, 2, 4, 5, 7, 9, 11];
        let rot = self.index();
        let mut out = [0i8; 7];
        for (i, o) in out.iter_mut().enumerate() {
            let j = i + rot;
            let octave = if j >= 7 { 12 } else { 0 };
            *o = IONIAN[j % 7] + octave - IONIAN[rot];
        }
        out
    }

    /// Human name, e.g. "Dorian".
    pub fn name(self) -> &'static str {
        match self {
            Mode::Ionian => "Ionian",
            Mode::Dorian => "Dorian",
            Mode::Phrygian => "Phrygian",
            Mode::Lydian => "Lydian",
            Mode::Mixolydian => "Mixolydian",
            Mode::Aeolian => "Aeolian",
            Mode::Locrian => "Locrian",
        }
    }
}

/// A chord quality. The voicing rule in [`crate::music::theory`] adds lo-fi extensions on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Quality {
    /// Major triad (1 3 5).
    Major,
    /// Minor triad (1 ♭3 5).
    Minor,
    /// Diminished triad (1 ♭3 ♭5).
    Diminished,
    /// Dominant seventh (1 3 5 ♭7).
    Dominant7,
    /// Major seventh (1 3 5 7).
    Major7,
    /// Minor seventh (1 ♭3 5 ♭7).
    Minor7,
    /// Half-diminished seventh (1 ♭3 ♭5 ♭7).
    HalfDiminished7,
    /// Suspended fourth (1 4 5).
    Sus4,
}

impl Quality {
    /// All qualities in token order.
    pub const ALL: [Quality; 8] = [
        Quality::Major,
        Quality::Minor,
        Quality::Diminished,
        Quality::Dominant7,
        Quality::Major7,
        Quality::Minor7,
        Quality::HalfDiminished7,
        Quality::Sus4,
    ];

    /// Index 0–7 in [`Quality::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The seventh chord built by stacking thirds of `mode` on `degree` (1–7): what a plain
    /// numeral (e.g. LOFI's `2`) means in that mode.
    pub fn diatonic(mode: Mode, degree: u8) -> Quality {
        let scale = mode.scale();
        let d = (degree.clamp(1, 7) - 1) as usize;
        let at = |k: usize| -> i8 {
            let j = d + k;
            scale[j % 7] + if j >= 7 { 12 } else { 0 } - scale[d]
        };
        match (at(2), at(4), at(6)) {
            (4, 7, 11) => Quality::Major7,
            (4, 7, 10) => Quality::Dominant7,
            (3, 7, 10) => Quality::Minor7,
            (3, 6, 10) => Quality::HalfDiminished7,
            // Stacked thirds in a diatonic mode only ever give the four above.
            (3, 6, _) => Quality::Diminished,
            (3, _, _) => Quality::Minor,
            _ => Quality::Major,
        }
    }

    /// Chord-symbol suffix, e.g. "m7".
    pub fn suffix(self) -> &'static str {
        match self {
            Quality::Major => "",
            Quality::Minor => "m",
            Quality::Diminished => "dim",
            Quality::Dominant7 => "7",
            Quality::Major7 => "maj7",
            Quality::Minor7 => "m7",
            Quality::HalfDiminished7 => "m7b5",
            Quality::Sus4 => "sus4",
        }
    }
}

/// A Roman numeral: scale degree of the mode, chromatic shift, quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Chord {
    /// Scale degree 1–7 of the progression's mode.
    pub degree: u8,
    /// −1 (lowered, e.g. ♭VII), 0, or +1 (raised) semitone applied to the degree's root.
    pub shift: i8,
    /// The chord's quality.
    pub quality: Quality,
}

impl Chord {
    /// The diatonic seventh chord on `degree` of `mode`.
    pub fn diatonic(mode: Mode, degree: u8) -> Chord {
        Chord {
            degree,
            shift: 0,
            quality: Quality::diatonic(mode, degree),
        }
    }

    /// Root in semitones above the tonic (0–11).
    pub fn root_semitones(self, mode: Mode) -> u8 {
        let d = (self.degree.clamp(1, 7) - 1) as usize;
        (mode.scale()[d] + self.shift.clamp(-1, 1)).rem_euclid(12) as u8
    }

    fn validate(self) -> Result<(), String> {
        if !(1..=7).contains(&self.degree) {
            return Err(format!("chord degree {} is outside 1–7", self.degree));
        }
        if !(-1..=1).contains(&self.shift) {
            return Err(format!("chord shift {} is outside −1..=1", self.shift));
        }
        Ok(())
    }
}

/// One melody step on the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Step {
    /// Silence.
    Rest,
    /// Keep the previous note sounding (a tie); after a rest it is a rest.
    Hold,
    /// A new note, in semitones relative to the tonic ([`MELODY_MIN`]..=[`MELODY_MAX`]).
    Note(i8),
}

/// One bar: its chord (None = no chord) and the melody steps under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Bar {
    /// The bar's chord, or None for a bar without harmony.
    pub chord: Option<Chord>,
    /// The melody under the chord, [`STEPS_PER_CHORD`] eighth notes.
    pub melody: [Step; STEPS_PER_CHORD],
}

/// A key, a mode and 1–[`MAX_BARS`] bars of chords and melody.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Progression {
    /// Tonic pitch class, 0 = C … 11 = B.
    pub key: u8,
    /// The mode the numerals are relative to.
    pub mode: Mode,
    /// The bars, in order.
    pub bars: Vec<Bar>,
}

/// Token ids, as the decoder reads and writes them. Chord token 0 is "no chord"; then
/// `1 + ((degree−1)·3 + (shift+1))·8 + quality`. Melody tokens: 0 rest, 1 hold, then
/// `2 + (pitch − MELODY_MIN)`.
pub mod tokens {
    use super::*;

    /// Number of chord tokens (no-chord + 7 degrees × 3 shifts × 8 qualities).
    pub const CHORD_VOCAB: usize = 1 + 7 * 3 * 8;
    /// Number of melody tokens (rest, hold, 37 pitches).
    pub const MELODY_VOCAB: usize = 2 + (MELODY_MAX - MELODY_MIN) as usize + 1;

    /// The token of a chord slot.
    pub fn chord_token(chord: Option<Chord>) -> u16 {
        match chord {
            None => 0,
            Some(c) => {
                let d = (c.degree.clamp(1, 7) - 1) as u16;
                let s = (c.shift.clamp(-1, 1) + 1) as u16;
                1 + (d * 3 + s) * 8 + c.quality.index() as u16
            }
        }
    }

    /// The chord slot of a token, or None if the token is out of range.
    pub fn chord_from_token(token: u16) -> Option<Option<Chord>> {
        if token == 0 {
            return Some(None);
        }
        if token as usize >= CHORD_VOCAB {
            return None;
        }
        let t = token - 1;
        let quality = Quality::ALL[(t % 8) as usize];
        let ds = t / 8;
        Some(Some(Chord {
            degree: (ds / 3) as u8 + 1,
            shift: (ds % 3) as i8 - 1,
            quality,
        }))
    }

    /// The token of a melody step.
    pub fn step_token(step: Step) -> u16 {
        match step {
            Step::Rest => 0,
            Step::Hold => 1,
            Step::Note(p) => 2 + (p.clamp(MELODY_MIN, MELODY_MAX) - MELODY_MIN) as u16,
        }
    }

    /// The melody step of a token, or None if the token is out of range.
    pub fn step_from_token(token: u16) -> Option<Step> {
        match token {
            0 => Some(Step::Rest),
            1 => Some(Step::Hold),
            t if (t as usize) < MELODY_VOCAB => Some(Step::Note((t - 2) as i8 + MELODY_MIN)),
            _ => None,
        }
    }
}

/// Why a progression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProgressionError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ProgressionError> {
    Err(ProgressionError(msg.into()))
}

impl Progression {
    /// Checks every field is in range; the message names the first offending field.
    pub fn validate(&self) -> Result<(), ProgressionError> {
        if self.key > 11 {
            return err(format!("`key` is {}, expected 0–11", self.key));
        }
        if self.bars.is_empty() || self.bars.len() > MAX_BARS {
            return err(format!(
                "`bars` has {} bars, expected 1–{MAX_BARS}",
                self.bars.len()
            ));
        }
        for (i, bar) in self.bars.iter().enumerate() {
            if let Some(c) = bar.chord {
                c.validate()
                    .map_err(|e| ProgressionError(format!("`bars[{i}].chord`: {e}")))?;
            }
            for (j, s) in bar.melody.iter().enumerate() {
                if let Step::Note(p) = s {
                    if !(MELODY_MIN..=MELODY_MAX).contains(p) {
                        return err(format!(
                            "`bars[{i}].melody[{j}]` pitch {p} is outside {MELODY_MIN}..={MELODY_MAX}"
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Reads Lofi Loom's own JSON form, or, failing that, the LOFI sample format.
    pub fn from_json(text: &str) -> Result<Progression, ProgressionError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| ProgressionError(format!("not valid JSON: {e}")))?;
        if value.get("bars").is_some() {
            let p: Progression = serde_json::from_value(value)
                .map_err(|e| ProgressionError(format!("not a Lofi Loom progression: {e}")))?;
            p.validate()?;
            Ok(p)
        } else {
            Ok(Self::from_lofi_value(&value)?.0)
        }
    }

    /// Reads the LOFI sample format. Returns the progression and its `bpm`, if it has one.
    pub fn from_lofi_json(text: &str) -> Result<(Progression, Option<f64>), ProgressionError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| ProgressionError(format!("not valid JSON: {e}")))?;
        Self::from_lofi_value(&value)
    }

    fn from_lofi_value(
        v: &serde_json::Value,
    ) -> Result<(Progression, Option<f64>), ProgressionError> {
        let int = |field: &str, lo: i64, hi: i64| -> Result<i64, ProgressionError> {
            match v.get(field).and_then(|x| x.as_f64()) {
                Some(x) if x.fract() == 0.0 && (lo as f64..=hi as f64).contains(&x) => Ok(x as i64),
                Some(x) => err(format!(
                    "`{field}` is {x}, expected a whole number {lo}–{hi}"
                )),
                None => err(format!("`{field}` is missing or not a number")),
            }
        };
        let key = int("key", 1, 12)? as u8 - 1;
        let mode = Mode::ALL[int("mode", 1, 7)? as usize - 1];
        let bpm = match v.get("bpm") {
            None | Some(serde_json::Value::Null) => None,
            Some(b) => match b.as_f64() {
                Some(x) if (20.0..=400.0).contains(&x) => Some(x),
                _ => return err(format!("`bpm` is {b}, expected a number 20–400")),
            },
        };
        let Some(chords) = v.get("chords").and_then(|c| c.as_array()) else {
            return err("`chords` is missing or not a list");
        };
        if chords.is_empty() || chords.len() > MAX_BARS {
            return err(format!(
                "`chords` has {} chords, expected 1–{MAX_BARS}",
                chords.len()
            ));
        }
        let Some(melodies) = v.get("melodies").and_then(|m| m.as_array()) else {
            return err("`melodies` is missing or not a list");
        };
        if melodies.len() != chords.len() {
            return err(format!(
                "`melodies` has {} entries but `chords` has {}: expected one melody per chord",
                melodies.len(),
                chords.len()
            ));
        }
        let scale = mode.scale();
        let mut bars = Vec::with_capacity(chords.len());
        for (i, (c, m)) in chords.iter().zip(melodies).enumerate() {
            let chord = match c.as_u64() {
                Some(0) => None,
                Some(d @ 1..=7) => Some(Chord::diatonic(mode, d as u8)),
                _ => return err(format!("`chords[{i}]` is {c}, expected a whole number 0–7")),
            };
            let Some(steps) = m.as_array().filter(|s| s.len() == STEPS_PER_CHORD) else {
                return err(format!(
                    "`melodies[{i}]` must be a list of {STEPS_PER_CHORD} numbers"
                ));
            };
            let mut melody = [Step::Rest; STEPS_PER_CHORD];
            for (j, s) in steps.iter().enumerate() {
                melody[j] = match s.as_u64() {
                    Some(0) => Step::Rest,
                    Some(d @ 1..=15) => {
                        let d = d as usize - 1;
                        Step::Note(scale[d % 7] + 12 * (d / 7) as i8)
                    }
                    _ => {
                        return err(format!(
                            "`melodies[{i}][{j}]` is {s}, expected a whole number 0–15"
                        ))
                    }
                };
            }
            bars.push(Bar { chord, melody });
        }
        Ok((Progression { key, mode, bars }, bpm))
    }

    /// Lofi Loom's own JSON form.
    pub fn to_json(&self) -> String {
        // Serialising plain enums, integers and arrays cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_scales() {
        assert_eq!(Mode::Ionian.scale(), [0, 2, 4, 5, 7, 9, 11]);
        assert_eq!(Mode::Dorian.scale(), [0, 2, 3, 5, 7, 9, 10]);
        assert_eq!(Mode::Aeolian.scale(), [0, 2, 3, 5, 7, 8, 10]);
        assert_eq!(Mode::Locrian.scale(), [0, 1, 3, 5, 6, 8, 10]);
        assert_eq!(Mode::Lydian.scale(), [0, 2, 4, 6, 7, 9, 11]);
    }

    #[test]
    fn diatonic_qualities_in_ionian_and_aeolian() {
        use Quality::*;
        let ion: Vec<_> = (1..=7)
            .map(|d| Quality::diatonic(Mode::Ionian, d))
            .collect();
        assert_eq!(
            ion,
            [
                Major7,
                Minor7,
                Minor7,
                Major7,
                Dominant7,
                Minor7,
                HalfDiminished7
            ]
        );
        let aeo: Vec<_> = (1..=7)
            .map(|d| Quality::diatonic(Mode::Aeolian, d))
            .collect();
        assert_eq!(
            aeo,
            [
                Minor7,
                HalfDiminished7,
                Major7,
                Minor7,
                Minor7,
                Major7,
                Dominant7
            ]
        );
    }

    #[test]
    fn tokens_round_trip() {
        for t in 0..tokens::CHORD_VOCAB as u16 {
            let c = tokens::chord_from_token(t).unwrap();
            assert_eq!(tokens::chord_token(c), t);
        }
        assert_eq!(tokens::chord_from_token(tokens::CHORD_VOCAB as u16), None);
        for t in 0..tokens::MELODY_VOCAB as u16 {
            let s = tokens::step_from_token(t).unwrap();
            assert_eq!(tokens::step_token(s), t);
        }
        assert_eq!(tokens::MELODY_VOCAB, 39);
        assert_eq!(tokens::step_token(Step::Note(0)), 14);
    }

    #[test]
    fn lofi_sample_imports() {
        let text = r#"{"key": 3, "mode": 6, "bpm": 75, "energy": 0.4, "valence": 0.2,
            "chords": [2, 5, 0, 1],
            "melodies": [[1,0,3,3,5,0,8,15],[0,0,0,0,0,0,0,0],[1,1,1,1,1,1,1,1],[7,6,5,4,3,2,1,0]]}"#;
        let (p, bpm) = Progression::from_lofi_json(text).unwrap();
        assert_eq!(bpm, Some(75.0));
        assert_eq!(p.key, 2);
        assert_eq!(p.mode, Mode::Aeolian);
        assert_eq!(p.bars.len(), 4);
        assert_eq!(
            p.bars[0].chord,
            Some(Chord {
                degree: 2,
                shift: 0,
                quality: Quality::HalfDiminished7
            })
        );
        assert_eq!(p.bars[2].chord, None);
        use Step::*;
        assert_eq!(
            p.bars[0].melody,
            [
                Note(0),
                Rest,
                Note(3),
                Note(3),
                Note(7),
                Rest,
                Note(12),
                Note(24)
            ]
        );
        assert_eq!(Progression::from_json(text).unwrap(), p);
        // Own JSON form round-trips.
        assert_eq!(Progression::from_json(&p.to_json()).unwrap(), p);
    }

    #[test]
    fn malformed_lofi_names_the_field() {
        let cases = [
            (
                r#"{"mode":1,"chords":[1],"melodies":[[0,0,0,0,0,0,0,0]]}"#,
                "`key`",
            ),
            (
                r#"{"key":13,"mode":1,"chords":[1],"melodies":[[0,0,0,0,0,0,0,0]]}"#,
                "`key`",
            ),
            (
                r#"{"key":1,"mode":8,"chords":[1],"melodies":[[0,0,0,0,0,0,0,0]]}"#,
                "`mode`",
            ),
            (
                r#"{"key":1,"mode":1,"chords":[9],"melodies":[[0,0,0,0,0,0,0,0]]}"#,
                "`chords[0]`",
            ),
            (
                r#"{"key":1,"mode":1,"chords":[1],"melodies":[[0,0,0]]}"#,
                "`melodies[0]`",
            ),
            (
                r#"{"key":1,"mode":1,"chords":[1],"melodies":[[0,0,0,0,0,0,0,16]]}"#,
                "`melodies[0][7]`",
            ),
            (
                r#"{"key":1,"mode":1,"chords":[1,2],"melodies":[[0,0,0,0,0,0,0,0]]}"#,
                "`melodies`",
            ),
            (
                r#"{"key":1,"mode":1,"bpm":"fast","chords":[1],"melodies":[[0,0,0,0,0,0,0,0]]}"#,
                "`bpm`",
            ),
            (
                r#"{"key":1,"mode":1,"chords":[],"melodies":[]}"#,
                "`chords`",
            ),
            ("not json", "not valid JSON"),
        ];
        for (text, field) in cases {
            let e = Progression::from_json(text).unwrap_err();
            assert!(e.0.contains(field), "{text}: {e}");
        }
    }
}
