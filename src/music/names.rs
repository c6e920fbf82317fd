//! How progressions are named for people: each bar's chord as it is voiced ("Dm9"), the chord
//! line ("Fmaj9 · Em7 · Dm9 · G13"), the key ("F Ionian") and the first chord (for file
//! names). Pure functions over [`Progression`], used by the editor and the file names.

use super::progression::Progression;
use super::theory::{key_name, voiced_symbol};

/// Shown for a bar without a chord.
pub const NO_CHORD: &str = "N.C.";
/// Between chord names on one line.
pub const SEPARATOR: &str = " · ";

/// The name of each bar's chord as it is voiced (with its extensions), e.g. "Dm9"; bars
/// without a chord are [`NO_CHORD`].
pub fn chord_names(progression: &Progression) -> Vec<String> {
    progression
        .bars
        .iter()
        .map(|bar| match bar.chord {
            Some(chord) => voiced_symbol(chord, progression.key, progression.mode).to_string(),
            None => NO_CHORD.to_owned(),
        })
        .collect()
}

/// The chord line, e.g. "Fmaj9 · Em7 · Dm9 · G13".
pub fn chord_line(progression: &Progression) -> String {
    chord_names(progression).join(SEPARATOR)
}

/// The key as a musician reads it, e.g. "F Ionian", "C# Dorian".
pub fn key_label(progression: &Progression) -> String {
    format!(
        "{} {}",
        key_name(progression.key, progression.mode),
        progression.mode.name()
    )
}

/// The name of the first chord (for file names), or None when no bar has one.
pub fn first_chord(progression: &Progression) -> Option<String> {
    progression
        .bars
        .iter()
        .find_map(|bar| bar.chord)
        .map(|chord| voiced_symbol(chord, progression.key, progression.mode).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::progression::{Bar, Chord, Mode, Quality, Step};

    fn bar(chord: Option<Chord>) -> Bar {
        Bar {
            chord,
            melody: [Step::Rest; 8],
        }
    }

    /// F Ionian: I (Fmaj7), vi (Dm7), a bar without a chord, V (C7).
    fn f_major() -> Progression {
        Progression {
            key: 5,
            mode: Mode::Ionian,
            bars: vec![
                bar(Some(Chord::diatonic(Mode::Ionian, 1))),
                bar(Some(Chord::diatonic(Mode::Ionian, 6))),
                bar(None),
                bar(Some(Chord::diatonic(Mode::Ionian, 5))),
            ],
        }
    }

    #[test]
    fn chord_line_names_the_voiced_chords_in_their_key() {
        // F Ionian = F G A Bb C D E. I = Fmaj7, its 9th G is in the scale → Fmaj9.
        // vi = Dm7, 9th E in the scale → Dm9. V = C7, 9th D and 13th A in the scale → C13.
        let p = f_major();
        assert_eq!(chord_line(&p), "Fmaj9 · Dm9 · N.C. · C13");
        assert_eq!(key_label(&p), "F Ionian");
        assert_eq!(first_chord(&p).as_deref(), Some("Fmaj9"));
    }

    #[test]
    fn flat_keys_are_spelled_with_flats_and_shifted_roots_follow_their_shift() {
        // Eb Ionian (key 3): ii = Fm7 → Fm9; bVII (degree 7 lowered, major triad): Db, whose
        // 9th Eb is in the scale → Dbadd9.
        let p = Progression {
            key: 3,
            mode: Mode::Ionian,
            bars: vec![
                bar(Some(Chord::diatonic(Mode::Ionian, 2))),
                bar(Some(Chord {
                    degree: 7,
                    shift: -1,
                    quality: Quality::Major,
                })),
            ],
        };
        assert_eq!(chord_line(&p), "Fm9 · Dbadd9");
        assert_eq!(key_label(&p), "Eb Ionian");
        let empty = Progression {
            key: 0,
            mode: Mode::Dorian,
            bars: vec![bar(None)],
        };
        assert_eq!(first_chord(&empty), None);
        assert_eq!(chord_line(&empty), "N.C.");
    }
}
