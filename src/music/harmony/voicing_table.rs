//! The hand-written voicing table [`super::chord`] is tested against: MIDI notes → expected
//! root, quality and display name, written by hand from the chord symbols, not from the code.
//!
//! Unless a row says otherwise the bass hint is the lowest note, as the integration passes it,
//! and names are spelled in C Ionian. Rows marked `ambiguous` are pitch-class sets with more
//! than one honest reading; their expectation is the one the documented tie rules pick.

use super::chord::{name, recognize, to_numeral};
use crate::music::progression::{Mode, Quality};
use crate::music::theory;

/// What bass hint a row passes to `recognize`.
#[derive(Debug, Clone, Copy)]
enum Hint {
    /// The lowest note's pitch class.
    Lowest,
    /// No hint.
    None,
    /// This pitch class (e.g. a bass player's note that is not among the chord notes).
    Given(u8),
}

/// One row of the table.
struct Row {
    /// The notes played, MIDI numbers (C4 = 60), any order, doublings allowed.
    notes: &'static [u8],
    /// The bass hint.
    hint: Hint,
    /// Key (0 = C) and mode the name is spelled in.
    key: u8,
    mode: Mode,
    /// Expected root pitch class.
    root: u8,
    /// Expected quality.
    quality: Quality,
    /// Expected display name (no slash).
    name: &'static str,
    /// Whether the set has more than one honest reading (see the module docs of `chord`).
    ambiguous: bool,
}

const C: u8 = 0;
const D: u8 = 2;
const E: u8 = 4;
const F: u8 = 5;
const G: u8 = 7;
const A: u8 = 9;
const B: u8 = 11;
const EB: u8 = 3;
const AB: u8 = 8;
const BB: u8 = 10;
const DB: u8 = 1;
const FS: u8 = 6;

/// A row in C Ionian with the lowest note as the hint.
const fn r(notes: &'static [u8], root: u8, quality: Quality, name: &'static str) -> Row {
    Row {
        notes,
        hint: Hint::Lowest,
        key: C,
        mode: Mode::Ionian,
        root,
        quality,
        name,
        ambiguous: false,
    }
}

impl Row {
    /// The same row spelled in another key and mode.
    const fn key(self, key: u8, mode: Mode) -> Row {
        Row { key, mode, ..self }
    }
    /// The same row with another hint.
    const fn hint(self, hint: Hint) -> Row {
        Row { hint, ..self }
    }
    /// The same row, marked ambiguous.
    const fn ambiguous(self) -> Row {
        Row {
            ambiguous: true,
            ..self
        }
    }
}

use Quality::*;

/// The table (105 voicings).
const TABLE: &[Row] = &[
    // --- Triads, every inversion, spreads and doublings.
    r(&[60, 64, 67], C, Major, "C"),
    r(&[64, 67, 72], C, Major, "C"),
    r(&[55, 60, 64], C, Major, "C"),
    r(&[36, 55, 64, 72, 76, 84], C, Major, "C"),
    r(&[57, 60, 64], A, Minor, "Am"),
    r(&[60, 64, 69], A, Minor, "Am"),
    r(&[52, 57, 60], A, Minor, "Am"),
    r(&[33, 52, 60, 69, 76, 84], A, Minor, "Am"),
    r(&[59, 62, 65], B, Diminished, "Bdim"),
    r(&[62, 65, 71], B, Diminished, "Bdim"),
    r(&[65, 71, 74], B, Diminished, "Bdim"),
    r(&[62, 66, 69], D, Major, "D").key(G, Mode::Ionian),
    r(&[54, 57, 61], FS, Minor, "F#m").key(D, Mode::Ionian),
    r(&[55, 58, 62], G, Minor, "Gm").key(F, Mode::Ionian),
    r(&[60, 63, 67], C, Minor, "Cm").key(C, Mode::Aeolian),
    // Borrowed triads in C: flats for lowered degrees, sharps for raised ones.
    r(&[63, 67, 70], EB, Major, "Eb"),
    r(&[58, 62, 65], BB, Major, "Bb"),
    r(&[56, 60, 63], AB, Major, "Ab"),
    r(&[61, 65, 68], DB, Major, "Db"),
    r(&[66, 70, 73], FS, Major, "F#"),
    // --- Sus, add, sus2 and power chords.
    r(&[60, 65, 67], C, Sus4, "Csus4"),
    r(&[58, 63, 65], BB, Sus4, "Bbsus4"),
    r(&[55, 60, 62, 65], G, Sus4, "G7sus4"),
    r(&[43, 60, 62, 65, 69], G, Sus4, "G9sus4"),
    r(&[48, 62, 65, 67], C, Sus4, "Csus4add9").ambiguous(),
    r(&[60, 62, 65, 67], G, Sus4, "G7sus4")
        .hint(Hint::None)
        .ambiguous(),
    r(&[48, 65, 67, 70], C, Sus4, "C7sus4"),
    r(&[60, 65, 67, 70], C, Sus4, "C7sus4")
        .hint(Hint::None)
        .ambiguous(),
    r(&[55, 60, 65, 70], G, Minor7, "Gm7(11)").ambiguous(),
    r(&[60, 62, 67], C, Major, "Csus2").ambiguous(),
    r(&[55, 60, 62], G, Sus4, "Gsus4"),
    r(&[62, 67, 72], G, Sus4, "Gsus4").ambiguous(),
    r(&[60, 64, 65, 67], C, Major, "Cadd11"),
    r(&[60, 62, 64, 67], C, Major, "Cadd9"),
    r(&[57, 59, 60, 64], A, Minor, "Amadd9"),
    r(&[48, 57, 62, 64, 67], C, Major, "C6/9").ambiguous(),
    r(&[48, 55], C, Major, "C5"),
    r(&[43, 50, 55, 62], G, Major, "G5"),
    // --- Seventh chords, every inversion.
    r(&[60, 64, 67, 71], C, Major7, "Cmaj7"),
    r(&[64, 67, 71, 72], C, Major7, "Cmaj7"),
    r(&[67, 71, 72, 76], C, Major7, "Cmaj7"),
    r(&[59, 64, 67, 72], C, Major7, "Cmaj7"),
    r(&[55, 59, 62, 65], G, Dominant7, "G7"),
    r(&[59, 62, 65, 67], G, Dominant7, "G7"),
    r(&[62, 65, 67, 71], G, Dominant7, "G7"),
    r(&[53, 59, 62, 67], G, Dominant7, "G7"),
    r(&[31, 43, 59, 65, 74, 83], G, Dominant7, "G7"),
    r(&[62, 65, 69, 72], D, Minor7, "Dm7"),
    r(&[53, 57, 60, 62], F, Major, "F6").ambiguous(),
    r(&[57, 60, 62, 65], D, Minor7, "Dm7"),
    r(&[48, 62, 65, 69], D, Minor7, "Dm7"),
    r(&[60, 64, 67, 70], C, Dominant7, "C7"),
    r(&[29, 48, 57, 64, 76], F, Major7, "Fmaj7"),
    r(&[48, 55, 58, 63], C, Minor7, "Cm7").key(BB, Mode::Ionian),
    r(&[51, 58, 62, 67], EB, Major7, "Ebmaj7").key(BB, Mode::Ionian),
    r(&[51, 54, 58, 61], EB, Minor7, "Ebm7").key(DB, Mode::Ionian),
    r(&[49, 56, 59, 64], DB, Minor7, "C#m7").key(A, Mode::Ionian),
    r(&[46, 57, 62, 65], BB, Major7, "Bbmaj7").key(F, Mode::Ionian),
    r(&[56, 60, 63, 66], AB, Dominant7, "Ab7").key(EB, Mode::Ionian),
    r(&[47, 63, 66, 69], B, Dominant7, "B7").key(E, Mode::Aeolian),
    // --- Half-diminished and diminished sevenths.
    r(&[59, 62, 65, 69], B, HalfDiminished7, "Bm7b5"),
    r(&[66, 69, 72, 76], FS, HalfDiminished7, "F#m7b5"),
    r(&[52, 55, 58, 62], E, HalfDiminished7, "Em7b5").key(F, Mode::Ionian),
    r(&[59, 62, 65, 68], B, Diminished, "Bdim7"),
    r(&[62, 65, 68, 71], D, Diminished, "Ddim7").ambiguous(),
    r(&[56, 59, 62, 65], AB, Diminished, "G#dim7").key(A, Mode::Aeolian),
    // --- Sixth chords against the minor sevenths with the same notes.
    r(&[60, 64, 67, 69], C, Major, "C6").ambiguous(),
    r(&[57, 60, 64, 67], A, Minor7, "Am7"),
    r(&[60, 64, 67, 69], A, Minor7, "Am7")
        .hint(Hint::None)
        .ambiguous(),
    r(&[64, 67, 69, 72], A, Minor7, "Am7").ambiguous(),
    r(&[55, 58, 62, 64], G, Minor, "Gm6")
        .key(F, Mode::Ionian)
        .ambiguous(),
    r(&[57, 60, 64, 66], A, Minor, "Am6")
        .key(G, Mode::Ionian)
        .ambiguous(),
    r(&[50, 53, 57, 59], D, Minor, "Dm6").ambiguous(),
    // --- Shell voicings: root-3-7, root-7-3, and with a 13.
    r(&[48, 52, 58], C, Dominant7, "C7"),
    r(&[48, 58, 64], C, Dominant7, "C7"),
    r(&[50, 60, 65], D, Minor7, "Dm7"),
    r(&[53, 57, 64], F, Major7, "Fmaj7"),
    r(&[43, 53, 59], G, Dominant7, "G7"),
    r(&[43, 53, 59, 64], G, Dominant7, "G13"),
    r(&[50, 60, 66, 71], D, Dominant7, "D13").key(G, Mode::Ionian),
    // --- Ninths, elevenths, thirteenths and alterations.
    r(&[50, 57, 60, 64, 65], D, Minor7, "Dm9"),
    r(&[43, 59, 64, 65, 69], G, Dominant7, "G13"),
    r(&[48, 64, 67, 71, 74], C, Major7, "Cmaj9"),
    r(&[48, 58, 62, 64, 67], C, Dominant7, "C9"),
    r(&[45, 55, 59, 60, 64], A, Minor7, "Am9"),
    r(&[48, 63, 67, 70, 74], C, Minor7, "Cm9").key(BB, Mode::Ionian),
    r(&[38, 53, 57, 60, 64, 67], D, Minor7, "Dm11"),
    r(&[45, 55, 60, 62, 64], A, Minor7, "Am7(11)"),
    r(&[48, 52, 58, 63], C, Dominant7, "C7(#9)"),
    r(&[43, 59, 65, 68], G, Dominant7, "G7(b9)"),
    r(&[52, 56, 60, 62], E, Dominant7, "E7(b13)").key(A, Mode::Aeolian),
    r(&[41, 57, 60, 64, 71], F, Major7, "Fmaj7(#11)"),
    r(&[48, 55, 63, 71], C, Minor, "Cm(maj7)").key(C, Mode::Aeolian),
    // --- Rootless voicings, with and without the root as a separate bass hint.
    r(&[64, 67, 71, 74], E, Minor7, "Em7").ambiguous(),
    r(&[64, 67, 71, 74], C, Major7, "Cmaj9").hint(Hint::Given(C)),
    r(&[53, 57, 60, 64], F, Major7, "Fmaj7").ambiguous(),
    r(&[53, 57, 60, 64], D, Minor7, "Dm9").hint(Hint::Given(D)),
    r(&[59, 64, 65, 69], F, Major7, "Fmaj7(#11)").ambiguous(),
    r(&[59, 64, 65, 69], G, Dominant7, "G13").hint(Hint::Given(G)),
    r(&[58, 62, 64, 69], BB, Major7, "Bbmaj7(#11)").ambiguous(),
    r(&[58, 62, 64, 69], C, Dominant7, "C13").hint(Hint::Given(C)),
    r(&[53, 59, 64], G, Dominant7, "G13"),
    r(&[59, 65, 69], G, Dominant7, "G9"),
    r(&[59, 62, 64, 67], E, Minor7, "Em7").ambiguous(),
    r(&[55, 59, 62, 64], G, Major, "G6").ambiguous(),
];

/// Sets that must not be heard as a chord.
const NONE_ROWS: &[&[u8]] = &[
    &[],
    &[60],
    &[48, 60, 72],
    &[60, 61],
    &[60, 62],
    &[60, 66],
    &[60, 61, 62],
    &[60, 62, 64],
    &[60, 64, 68],
    &[60, 61, 62, 63, 64, 65],
    &[60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71],
];

fn mask(notes: &[u8]) -> u16 {
    notes.iter().fold(0, |m, &n| m | 1 << (n % 12))
}

fn bass_of(row: &Row) -> Option<u8> {
    match row.hint {
        Hint::Lowest => row.notes.iter().min().map(|n| n % 12),
        Hint::None => None,
        Hint::Given(pc) => Some(pc),
    }
}

#[test]
fn the_voicing_table_is_heard_as_written() {
    let mut failures = Vec::new();
    for row in TABLE {
        let heard = recognize(mask(row.notes), bass_of(row));
        let got = heard.map(|h| (h.root, h.quality, name(&h, row.key, row.mode).to_string()));
        let want = (row.root, row.quality, row.name.to_string());
        if got.as_ref() != Some(&want) {
            failures.push(format!("{:?}: want {want:?}, got {got:?}", row.notes));
        }
        if let Some(h) = heard {
            // The numeral lands on the same root, in the row's key.
            let numeral = to_numeral(&h, row.key, row.mode);
            assert_eq!(
                theory::root_pitch_class(numeral, row.key, row.mode),
                row.root
            );
        }
    }
    let right = TABLE.len() - failures.len();
    let ambiguous = TABLE.iter().filter(|r| r.ambiguous).count();
    println!(
        "voicing table: {right}/{} right ({ambiguous} deliberately ambiguous rows)",
        TABLE.len()
    );
    assert!(TABLE.len() >= 60);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn clusters_and_single_notes_are_no_chord() {
    for notes in NONE_ROWS {
        let bass = notes.iter().min().map(|n| n % 12);
        assert_eq!(recognize(mask(notes), bass), None, "{notes:?}");
        assert_eq!(recognize(mask(notes), None), None, "{notes:?}");
    }
}
