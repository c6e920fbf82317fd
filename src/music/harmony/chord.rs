//! Chord recognition: a set of sounding pitch classes → root, [`Quality`] and extensions; its
//! display name; its Roman numeral in a key and mode.
//!
//! Everything works on 12-bit masks (bit k = pitch class k, or, after rotating to a root, the
//! tone k semitones above it), so [`recognize`] is a fixed double loop: 12 roots × 10
//! templates, each a handful of bit operations. No allocation, no panic for any input.
//!
//! # The rule set
//!
//! Every root (0–11) is tried with every template below. A template is a [`Quality`] with the
//! tones it **requires** (besides the root), the chord tones that are **optional** (may be left
//! out, at a cost), the **added tones** it accepts as extensions (each with a cost), and a
//! **form cost**. A sounding tone that is none of these **forbids** the reading, so e.g. a
//! sounding major third forbids `Sus4`, a minor third forbids `Major`, a major seventh forbids
//! `Dominant7`.
//!
//! | template            | quality          | requires     | optional | added tones, cost 1      | cost 2       | form |
//! |---------------------|------------------|--------------|----------|--------------------------|--------------|------|
//! | minor seventh       | `Minor7`         | ♭3 ♭7        | 5        | 9, 11                    | 13           | 0    |
//! | dominant seventh    | `Dominant7`      | 3 ♭7         | 5        | ♭9, 9, ♯9, ♯11, ♭13, 13   | 11           | 0    |
//! | major seventh       | `Major7`         | 3 7          | 5        | 9, ♯11                   | 11, 13       | 0    |
//! | half-diminished     | `HalfDiminished7`| ♭3 ♭5 ♭7     | –        | 11, ♭13                  | 9            | 0    |
//! | minor triad         | `Minor`          | ♭3           | 5        | 9 (add9), 11 (add11), 6  | 7 (m(maj7))  | 0    |
//! | major triad         | `Major`          | 3            | 5        | 9 (add9), 6              | 11, ♯11      | 0    |
//! | suspended fourth    | `Sus4`           | 4 5          | –        | ♭7, 9                    | ♭9, 13 (6)   | 0    |
//! | diminished          | `Diminished`     | ♭3 ♭5        | –        | 𝄫7 (dim7)                | –            | 0    |
//! | power chord         | `Major`, no 3rd  | 5, nothing else | –     | –                        | –            | 1    |
//! | sus2                | `Major`, no 3rd  | 2 5, nothing else | –   | –                        | –            | 1    |
//!
//! Further conditions:
//! * **Triads with added tones need their fifth** (C-E-D is not "Cadd9 without the fifth",
//!   and C-E-A is Am, not "C6 without the fifth").
//! * **Rootless readings** (the root not sounding) are tried only for the minor, dominant and
//!   major seventh templates, with the third, the seventh and a natural 9 or 13 sounding (three
//!   tones or more): the left-hand voicings of jazz piano. Their only other added tones may be
//!   a dominant's alterations (♭9, ♯9, ♯11, ♭13). They cost 3 more.
//! * A reading costing more than 5 is no chord: stacks of alterations and clusters.
//!
//! A reading with its root sounding always beats a rootless one. Among those, the reading's
//! **score** is `2 × (bass is the root) − cost`, where the cost adds the added tones' costs, 1
//! per optional tone left out, 3 if rootless, and the form cost. The highest score wins.
//! Equal scores are decided in this order:
//! 1. the template higher in the table above (seventh chords first, `Minor7` first of all: the
//!    idiom's commonest chord);
//! 2. fewer added tones;
//! 3. added tones higher above the root (a ♭7 before a 9, the commoner chord: C-D-F-G is
//!    G7sus4, not Csus4add9, and C-F-G-B♭ is C7sus4, not Fsus4add9);
//! 4. the lowest root pitch class (C = 0). Only the symmetric diminished seventh gets here,
//!    when there is no bass hint.
//!
//! # What the rules give for the known ambiguities
//!
//! * **C6 vs Am7** (C-E-G-A): Am7 (score 0) beats C6 (one added tone, −1) unless the bass is
//!   C (C6 scores +1). A bass on E or G keeps Am7. Likewise Em7♭5 vs Gm6, F♯m7♭5 vs Am6, and
//!   every minor seventh with its third in the bass: Dm7/F is F6.
//! * **Dominant seventh vs major sixth**: different tones (C7 has B♭, C6 has A), so never a tie;
//!   the 6 is an added tone of the major triad, never a seventh.
//! * **Sus vs add**: C-F-G is Csus4. C-E-F-G has a third, which forbids `Sus4`: Cadd11, quality
//!   `Major`. C-F-G-B♭ is C7sus4 (Gm7(11) without its fifth costs more), but Gm7(11) over a G
//!   bass; C-D-F-G is G7sus4, but Csus4add9 over a C bass.
//! * **Sus2 vs sus4 inversions**: C-D-G is Gsus4 (sus4 is a real quality, sus2 costs 1) unless
//!   C is the bass: Csus2 (quality `Major`, no third). Likewise C-F-G over F is Fsus2.
//! * **Power chords** (root and fifth only, any doublings): quality `Major`, named "C5", with a
//!   low confidence. [`to_numeral`] gives third-less chords (5, sus2) the mode's own triad on
//!   that degree, so A5 in A Aeolian is a minor i.
//! * **Dim vs half-dim**: decided by the seventh: none → `Diminished` ("Bdim"), 𝄫7 →
//!   `Diminished` named "Bdim7", ♭7 → `HalfDiminished7` ("Bm7b5"). A diminished seventh is
//!   symmetric, so it is named on the bass (B-D-F-A♭ over D is Ddim7).
//! * **Shell voicings** (root-3-7, root-7-3): the fifth is optional for seventh chords, so C-E-B♭
//!   is C7 in any order, C-E♭-B♭ Cm7, C-E-B Cmaj7, G-F-B G7, G-F-B-E G13.
//! * **Rootless voicings**: a reading with its root sounding always beats a rootless one, so a
//!   rootless voicing that is itself a chord is heard as that chord: E-G-B-D (Cmaj9 without C) is Em7, F-A-C-E (Dm9 without D) is Fmaj7, and
//!   B-E-F-A (G13 without G) is Fmaj7(♯11). With the root anywhere in the notes, or given as
//!   the bass hint (see [`recognize`]), they are Cmaj9, Dm9 and G13. A rootless voicing with no
//!   rooted reading is heard rootless: B-F-A is G9, F-B-E is G13.
//!   (B-D-E-G has no F, so it is no G13 at all: Em7, or G6 over a G bass.)
//! * **Clusters** (C-C♯-D, …), augmented triads, tritones and seconds on their own: no
//!   template fits, so [`recognize`] returns `None`.

use crate::music::progression::{Chord, Mode, Quality};
use crate::music::theory;
use std::cmp::Reverse;
use std::fmt;

/// The twelve pitch classes (and the twelve intervals above a root) as a mask.
const ALL_PITCH_CLASSES: u16 = 0x0FFF;

// Interval bits: tone k semitones above the root. Names are for the use the templates make.
/// The root.
const ROOT: u16 = 1 << 0;
/// ♭9.
const FLAT_NINTH: u16 = 1 << 1;
/// 9 (2 in sus2).
const NINTH: u16 = 1 << 2;
/// Minor third (♯9 over a major third).
const MINOR_THIRD: u16 = 1 << 3;
/// Major third.
const MAJOR_THIRD: u16 = 1 << 4;
/// Perfect fourth / 11.
const FOURTH: u16 = 1 << 5;
/// Tritone: ♭5 or ♯11.
const TRITONE: u16 = 1 << 6;
/// Perfect fifth.
const FIFTH: u16 = 1 << 7;
/// Minor sixth: ♭13 (♯5).
const MINOR_SIXTH: u16 = 1 << 8;
/// Major sixth: 6, 13, or the 𝄫7 of a diminished seventh.
const SIXTH: u16 = 1 << 9;
/// Minor seventh.
const MINOR_SEVENTH: u16 = 1 << 10;
/// Major seventh.
const MAJOR_SEVENTH: u16 = 1 << 11;

/// Score bonus of a reading whose root is the bass.
const BASS_IS_ROOT_BONUS: i16 = 2;
/// Cost of each optional chord tone (a fifth) left out.
const MISSING_TONE_COST: i16 = 1;
/// Cost of a rootless reading.
const ROOTLESS_COST: i16 = 3;
/// Readings costing more are no chord (clusters, stacks of alterations).
const MAX_COST: i16 = 5;

/// One row of the rule table in the module docs.
#[derive(Debug, Clone, Copy)]
struct Template {
    /// The quality this template recognises (the name comes from it and the tones heard, so
    /// power chords and sus2 need no form of their own: a `Major` without a third).
    quality: Quality,
    /// Tones (root excluded) that must sound.
    required: u16,
    /// Chord tones that may be left out, at [`MISSING_TONE_COST`] each.
    optional: u16,
    /// Added tones accepted at cost 1 each.
    added_common: u16,
    /// Added tones accepted at cost 2 each.
    added_rare: u16,
    /// Cost of the form itself (third-less forms).
    form_cost: i16,
    /// Added tones a rootless reading may have (0: no rootless reading). It must have a
    /// natural 9 or 13 among them.
    rootless_added: u16,
    /// Whether added tones are accepted only with the fifth sounding.
    added_need_fifth: bool,
}

impl Template {
    /// A template with no form cost and no special conditions.
    const fn full(quality: Quality, required: u16, optional: u16, common: u16, rare: u16) -> Self {
        Template {
            quality,
            required,
            optional,
            added_common: common,
            added_rare: rare,
            form_cost: 0,
            rootless_added: 0,
            added_need_fifth: false,
        }
    }

    /// Every tone this template accepts (the root included).
    const fn allowed(&self) -> u16 {
        ROOT | self.required | self.optional | self.added_common | self.added_rare
    }
}

/// Number of templates.
const TEMPLATE_COUNT: usize = 10;

/// The rule table, in tie-break precedence order (rule 2 in the module docs).
const TEMPLATES: [Template; TEMPLATE_COUNT] = [
    Template {
        rootless_added: NINTH | SIXTH,
        ..Template::full(
            Quality::Minor7,
            MINOR_THIRD | MINOR_SEVENTH,
            FIFTH,
            NINTH | FOURTH,
            SIXTH,
        )
    },
    Template {
        rootless_added: FLAT_NINTH | NINTH | MINOR_THIRD | TRITONE | MINOR_SIXTH | SIXTH,
        ..Template::full(
            Quality::Dominant7,
            MAJOR_THIRD | MINOR_SEVENTH,
            FIFTH,
            FLAT_NINTH | NINTH | MINOR_THIRD | TRITONE | MINOR_SIXTH | SIXTH,
            FOURTH,
        )
    },
    Template {
        rootless_added: NINTH | SIXTH,
        ..Template::full(
            Quality::Major7,
            MAJOR_THIRD | MAJOR_SEVENTH,
            FIFTH,
            NINTH | TRITONE,
            FOURTH | SIXTH,
        )
    },
    Template::full(
        Quality::HalfDiminished7,
        MINOR_THIRD | TRITONE | MINOR_SEVENTH,
        0,
        FOURTH | MINOR_SIXTH,
        NINTH,
    ),
    Template {
        added_need_fifth: true,
        ..Template::full(
            Quality::Minor,
            MINOR_THIRD,
            FIFTH,
            NINTH | FOURTH | SIXTH,
            MAJOR_SEVENTH,
        )
    },
    Template {
        added_need_fifth: true,
        ..Template::full(
            Quality::Major,
            MAJOR_THIRD,
            FIFTH,
            NINTH | SIXTH,
            FOURTH | TRITONE,
        )
    },
    Template::full(
        Quality::Sus4,
        FOURTH | FIFTH,
        0,
        MINOR_SEVENTH | NINTH,
        FLAT_NINTH | SIXTH,
    ),
    Template::full(Quality::Diminished, MINOR_THIRD | TRITONE, 0, SIXTH, 0),
    Template {
        form_cost: 1,
        ..Template::full(Quality::Major, FIFTH, 0, 0, 0)
    },
    Template {
        form_cost: 1,
        ..Template::full(Quality::Major, NINTH | FIFTH, 0, 0, 0)
    },
];

/// A chord heard in the musician's notes (saved with the session when Follow captured it).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeardChord {
    /// The root's pitch class, 0 = C … 11 = B. It need not be sounding (rootless voicings).
    pub root: u8,
    /// The quality, one of the decoder's eight. Extensions do not change it.
    pub quality: Quality,
    /// The lowest sounding pitch class: the bass hint given to [`recognize`], or the root when
    /// there was none.
    pub bass: u8,
    /// How sure the reading is, 0..=1: 1 for a complete chord with no rival reading; lower for
    /// added tones, missing tones, rootless and third-less readings, two-note chords, and
    /// readings that won only narrowly or by a tie rule. A heuristic for gating, not a
    /// probability.
    pub confidence: f32,
    /// Every sounding tone as an interval above the root (bit k = k semitones; bit 0 clear for a
    /// rootless reading). The name's extensions are read from it.
    pub intervals: u16,
}

impl HeardChord {
    /// The tones heard beyond the quality's own triad or seventh chord, as intervals above the
    /// root (bit 2 = 9, bit 5 = 11, bit 9 = 6/13, …). For a sus2 the 2 is one of them.
    pub fn extensions(&self) -> u16 {
        self.intervals & !core_tones(self.quality) & ALL_PITCH_CLASSES
    }

    /// Whether the root is not among the sounding tones (a rootless voicing).
    pub fn is_rootless(&self) -> bool {
        self.intervals & ROOT == 0
    }

    /// Whether the chord has no third: a power chord ("C5") or a sus2, heard as `Major`.
    pub fn is_third_less(&self) -> bool {
        self.quality == Quality::Major && self.intervals & MAJOR_THIRD == 0
    }

    /// The sounding pitch classes (bit k = pitch class k), the bass included.
    pub fn pitch_classes(&self) -> u16 {
        rotate_up(self.intervals, self.root % 12)
    }
}

/// The tones that make up a quality before any extension.
fn core_tones(quality: Quality) -> u16 {
    match quality {
        Quality::Major => ROOT | MAJOR_THIRD | FIFTH,
        Quality::Minor => ROOT | MINOR_THIRD | FIFTH,
        Quality::Diminished => ROOT | MINOR_THIRD | TRITONE,
        Quality::Dominant7 => ROOT | MAJOR_THIRD | FIFTH | MINOR_SEVENTH,
        Quality::Major7 => ROOT | MAJOR_THIRD | FIFTH | MAJOR_SEVENTH,
        Quality::Minor7 => ROOT | MINOR_THIRD | FIFTH | MINOR_SEVENTH,
        Quality::HalfDiminished7 => ROOT | MINOR_THIRD | TRITONE | MINOR_SEVENTH,
        Quality::Sus4 => ROOT | FOURTH | FIFTH,
    }
}

/// `pitch_classes` seen from `root`: bit k set when the pitch class `root + k` sounds.
fn rotate_down(pitch_classes: u16, root: u8) -> u16 {
    let set = u32::from(pitch_classes & ALL_PITCH_CLASSES);
    let r = u32::from(root % 12);
    (((set >> r) | (set << (12 - r))) & u32::from(ALL_PITCH_CLASSES)) as u16
}

/// The inverse of [`rotate_down`]: intervals above `root` back to pitch classes.
fn rotate_up(intervals: u16, root: u8) -> u16 {
    rotate_down(intervals, (12 - root % 12) % 12)
}

/// One template fitted to one root.
#[derive(Debug, Clone, Copy)]
struct Reading {
    /// Root pitch class.
    root: u8,
    /// Index into [`TEMPLATES`].
    template: u8,
    /// Sounding tones as intervals above the root.
    intervals: u16,
    /// Bass bonus minus cost (module docs).
    score: i16,
    /// The cost alone (for the confidence).
    cost: i16,
}

impl Reading {
    /// Sort key: larger is better (rooted first, then the score, then the tie rules of the
    /// module docs).
    fn rank(&self) -> (bool, i16, Reverse<u8>, Reverse<u32>, u16, Reverse<u8>) {
        let added = self.added();
        (
            self.intervals & ROOT != 0,
            self.score,
            Reverse(self.template),
            Reverse(added.count_ones()),
            added,
            Reverse(self.root),
        )
    }

    /// The added tones (beyond required and optional chord tones).
    fn added(&self) -> u16 {
        let t = &TEMPLATES[usize::from(self.template) % TEMPLATE_COUNT];
        self.intervals & (t.added_common | t.added_rare)
    }

    /// The template's quality.
    fn quality(&self) -> Quality {
        TEMPLATES[usize::from(self.template) % TEMPLATE_COUNT].quality
    }
}

/// Fits `template` to the tones `intervals` (seen from `root`), or None if it does not fit.
fn fit(
    template: &Template,
    index: u8,
    root: u8,
    intervals: u16,
    bass: Option<u8>,
) -> Option<Reading> {
    if intervals & !template.allowed() != 0 || intervals & template.required != template.required {
        return None;
    }
    let added = intervals & (template.added_common | template.added_rare);
    if template.added_need_fifth && added != 0 && intervals & FIFTH == 0 {
        return None;
    }
    let rooted = intervals & ROOT != 0;
    let rootless_ok = added & !template.rootless_added == 0
        && added & (NINTH | SIXTH) != 0
        && intervals.count_ones() >= 3;
    if !rooted && !rootless_ok {
        return None;
    }
    let cost = (intervals & template.added_common).count_ones() as i16
        + 2 * (intervals & template.added_rare).count_ones() as i16
        + MISSING_TONE_COST * (template.optional & !intervals).count_ones() as i16
        + if rooted { 0 } else { ROOTLESS_COST }
        + template.form_cost;
    if cost > MAX_COST {
        return None;
    }
    let bonus = if rooted && bass == Some(root) {
        BASS_IS_ROOT_BONUS
    } else {
        0
    };
    Some(Reading {
        root,
        template: index,
        intervals,
        score: bonus - cost,
        cost,
    })
}

/// Most readings one call can produce (every root × every template).
const MAX_READINGS: usize = 12 * TEMPLATE_COUNT;

/// Recognises the chord of a set of sounding pitch classes (bit k = pitch class k; bits 12–15
/// are ignored), with the lowest sounding pitch class as a hint (taken mod 12).
///
/// The bass hint is a sounding note, so it is added to the set if missing: a caller that keeps
/// the bass player's note apart from the chord notes may pass F-A-C-E with a bass of D and get
/// Dm9. Without a hint the root is assumed to be the bass ([`HeardChord::bass`] is the root).
///
/// Returns None for fewer than two pitch classes, or a set no template fits (clusters,
/// augmented triads, tritones and seconds on their own). See the module docs for the rules.
pub fn recognize(pitch_classes: u16, bass: Option<u8>) -> Option<HeardChord> {
    let bass = bass.map(|b| b % 12);
    let mut set = pitch_classes & ALL_PITCH_CLASSES;
    if let Some(b) = bass {
        set |= 1 << b;
    }
    if set.count_ones() < 2 {
        return None;
    }

    let mut readings = [None::<Reading>; MAX_READINGS];
    for root in 0..12u8 {
        let intervals = rotate_down(set, root);
        for (i, template) in TEMPLATES.iter().enumerate() {
            readings[usize::from(root) * TEMPLATE_COUNT + i] =
                fit(template, i as u8, root, intervals, bass);
        }
    }

    let best = readings
        .iter()
        .flatten()
        .max_by_key(|r| r.rank())
        .copied()?;
    let rival = readings
        .iter()
        .flatten()
        .filter(|r| r.root != best.root || r.quality() != best.quality())
        .map(|r| r.score)
        .max();

    Some(HeardChord {
        root: best.root,
        quality: best.quality(),
        bass: bass.unwrap_or(best.root),
        confidence: confidence(&best, rival, set.count_ones()),
        intervals: best.intervals,
    })
}

/// The confidence heuristic: 1 − 0.1 per unit of cost (at least 0.1), × 0.5 when a rival
/// reading scores the same (a tie rule decided), × 0.8 when it is one point behind, × 0.6 for
/// a two-note chord.
fn confidence(best: &Reading, rival_score: Option<i16>, tone_count: u32) -> f32 {
    let base = (1.0 - 0.1 * f32::from(best.cost)).max(0.1);
    let margin = match rival_score.map(|s| best.score - s) {
        Some(m) if m <= 0 => 0.5,
        Some(1) => 0.8,
        _ => 1.0,
    };
    let size = if tone_count <= 2 { 0.6 } else { 1.0 };
    (base * margin * size).clamp(0.0, 1.0)
}

/// The degree (1–7) and shift (−1..=1) of the pitch `semitones` above the tonic.
///
/// A scale tone is its own degree. A chromatic pitch takes the degree it has in a parallel mode
/// (modal mixture): every pitch above the tonic belongs to one degree's pair of possible
/// pitches across the seven modes (2nd: 1–2, 3rd: 3–4, 4th: 5–6, 5th: 6–7, 6th: 8–9,
/// 7th: 10–11), except the tritone, which could be a ♯4 or a ♭5 and is read ♯4. So Ionian
/// borrows ♭II, ♭III, ♯IV, ♭VI and ♭VII; Aeolian ♭II, ♯III, ♯IV, ♯VI and ♯VII (the leading
/// tone); Dorian ♭II, ♯III, ♯IV, ♭VI, ♯VII; Mixolydian ♭II, ♭III, ♯IV, ♭VI, ♯VII; Lydian ♭II,
/// ♭III, ♭IV, ♭VI, ♭VII; Phrygian ♯II, ♯III, ♯IV, ♯VI, ♯VII; Locrian ♯II, ♯III, ♯V, ♯VI, ♯VII.
fn degree_of(semitones: u8, mode: Mode) -> (u8, i8) {
    /// The degree each pitch above the tonic belongs to (module docs of [`to_numeral`]).
    const DEGREE_OF_SEMITONE: [u8; 12] = [1, 2, 2, 3, 3, 4, 4, 5, 6, 6, 7, 7];
    let semitones = semitones % 12;
    let scale = mode.scale();
    if let Some(i) = scale.iter().position(|&s| s == semitones as i8) {
        return (i as u8 + 1, 0);
    }
    let degree = DEGREE_OF_SEMITONE[usize::from(semitones)];
    let shift = semitones as i8 - scale[usize::from(degree - 1)];
    (degree, shift.clamp(-1, 1))
}

/// Semitones from the tonic `key` up to `pitch_class`.
fn above_tonic(pitch_class: u8, key: u8) -> u8 {
    (pitch_class % 12 + 12 - key % 12) % 12
}

/// The chord as a numeral in a key and mode (degree 1–7, shift −1/0/+1, the quality): the form
/// the decoder's chord locks take.
///
/// A root in the scale gets its diatonic degree. Any other root gets the nearest raised or
/// lowered degree by the modal-mixture rule: the degree the pitch has in a parallel mode, and
/// ♯IV for the tritone. In Ionian that is ♭II, ♭III, ♯IV, ♭VI, ♭VII; in Aeolian ♭II, ♯III,
/// ♯IV, ♯VI, ♯VII (full list on `degree_of` in the source).
///
/// The quality is the heard one, except for third-less chords (power chords and sus2, heard as
/// `Major`): they take the mode's own triad on a diatonic degree when it is major or minor
/// (A5 in A Aeolian is a minor i, G5 in A Aeolian a major ♭VII), and `Major` otherwise.
pub fn to_numeral(chord: &HeardChord, key: u8, mode: Mode) -> Chord {
    let (degree, shift) = degree_of(above_tonic(chord.root, key), mode);
    let quality = if chord.is_third_less() && shift == 0 {
        match Quality::diatonic(mode, degree) {
            Quality::Minor7 => Quality::Minor,
            _ => Quality::Major,
        }
    } else {
        chord.quality
    };
    Chord {
        degree,
        shift,
        quality,
    }
}

/// How `pitch_class` is spelled in the key: as theory.rs spells the root of the numeral it
/// would have (a lowered degree with flats, a raised one with sharps, a diatonic one in the
/// key's spelling).
fn spell(pitch_class: u8, key: u8, mode: Mode) -> &'static str {
    let (degree, shift) = degree_of(above_tonic(pitch_class, key), mode);
    let numeral = Chord {
        degree,
        shift,
        quality: Quality::Major,
    };
    theory::chord_symbol(numeral, key, mode).root
}

/// The bass's name when it is not the root (for a slash chord, "C/E"), spelled like roots.
pub fn bass_name(chord: &HeardChord, key: u8, mode: Mode) -> Option<&'static str> {
    (chord.bass % 12 != chord.root % 12).then(|| spell(chord.bass, key, mode))
}

/// Longest name a [`HeardName`] holds, in bytes (the longest the rules produce is 22).
const NAME_CAPACITY: usize = 32;

/// A chord name held inline (no heap), e.g. "Dm9": `Copy`, cheap, and safe to build on the
/// audio thread. `Display` prints the name; the alternate form (`{:#}`) adds the bass of an
/// inversion or a rootless voicing as a slash ("C/E", "G13/B").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeardName {
    /// The name's bytes (ASCII); only the first `len` are used.
    text: [u8; NAME_CAPACITY],
    /// Bytes in use.
    len: u8,
    /// Bytes of the root's name at the start of `text`.
    root_len: u8,
    /// The bass's name, when it is not the root.
    bass: Option<&'static str>,
}

impl HeardName {
    /// An empty name.
    const fn empty() -> HeardName {
        HeardName {
            text: [0; NAME_CAPACITY],
            len: 0,
            root_len: 0,
            bass: None,
        }
    }

    /// Appends `s`, dropping whatever does not fit (never happens with the rules' names).
    fn push(&mut self, s: &str) {
        for &b in s.as_bytes() {
            if usize::from(self.len) < NAME_CAPACITY {
                self.text[usize::from(self.len)] = b;
                self.len += 1;
            }
        }
    }

    /// The whole name, e.g. "F#m7b5".
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or("")
    }

    /// The root's name, e.g. "F#".
    pub fn root(&self) -> &str {
        self.as_str()
            .get(..usize::from(self.root_len))
            .unwrap_or("")
    }

    /// The quality and extensions, e.g. "m7b5"; empty for a major triad.
    pub fn suffix(&self) -> &str {
        self.as_str()
            .get(usize::from(self.root_len)..)
            .unwrap_or("")
    }

    /// The bass's name when it is not the root, e.g. "E" for C/E.
    pub fn bass(&self) -> Option<&'static str> {
        self.bass
    }
}

impl fmt::Display for HeardName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        match self.bass {
            Some(bass) if f.alternate() => write!(f, "/{bass}"),
            _ => Ok(()),
        }
    }
}

impl PartialEq<&str> for HeardName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A display name like the progression's chords, e.g. "Dm9", "G13", "Cmaj7", "F#m7b5",
/// "Bbsus4", with the extensions heard; the root spelled in the key and mode as theory.rs
/// spells the numeral [`to_numeral`] gives. Does not allocate.
///
/// Suffixes follow `theory::voiced_symbol` where the two meet ("maj9", "m7(11)", "13",
/// "m7b5(11)", "madd9", "sus4add9", "9sus4", "dim7"): a seventh chord's highest natural
/// extension replaces the 7 (9, 13, and 11 over a minor third when the 9 is there too; a 13
/// implies the 9), anything else goes in parentheses, comma-separated, low to high ("7(b9)",
/// "maj7(#11)", "7(#9,b13)"). Triads: "6", "add9", "6/9", "add11", "add#11" ("m…" for minor);
/// third-less: "5", "sus2".
pub fn name(chord: &HeardChord, key: u8, mode: Mode) -> HeardName {
    let mut out = HeardName::empty();
    out.push(spell(chord.root, key, mode));
    out.root_len = out.len;
    push_suffix(&mut out, chord.quality, chord.intervals);
    out.bass = bass_name(chord, key, mode);
    out
}

/// The parenthesised extensions, in order, with their labels.
const ALTERATIONS: [(u16, &str); 6] = [
    (FLAT_NINTH, "b9"),
    (NINTH, "9"),
    (MINOR_THIRD, "#9"),
    (FOURTH, "11"),
    (TRITONE, "#11"),
    (MINOR_SIXTH, "b13"),
];

/// Appends `(a,b,…)` for the tones of `tones` in [`ALTERATIONS`] order, or nothing.
fn push_parenthesised(out: &mut HeardName, tones: u16) {
    let mut first = true;
    for (bit, label) in ALTERATIONS {
        if tones & bit != 0 {
            out.push(if first { "(" } else { "," });
            out.push(label);
            first = false;
        }
    }
    if !first {
        out.push(")");
    }
}

/// Appends the suffix of `quality` with the tones `intervals` (see [`name`]).
fn push_suffix(out: &mut HeardName, quality: Quality, intervals: u16) {
    let has = |bit: u16| intervals & bit != 0;
    match quality {
        Quality::Major if !has(MAJOR_THIRD) => out.push(if has(NINTH) { "sus2" } else { "5" }),
        Quality::Major => push_triad(out, "", intervals),
        Quality::Minor => push_triad(out, "m", intervals),
        Quality::Diminished => out.push(if has(SIXTH) { "dim7" } else { "dim" }),
        Quality::Sus4 => push_sus4(out, intervals),
        Quality::HalfDiminished7 => {
            out.push("m7b5");
            push_parenthesised(out, intervals & (NINTH | FOURTH | MINOR_SIXTH));
        }
        Quality::Dominant7 | Quality::Major7 | Quality::Minor7 => {
            push_seventh(out, quality, intervals)
        }
    }
}

/// Triad suffixes: `prefix` ("" or "m"), then 6 / add9 / 6/9, then 11 and ♯11 ("add11"
/// alone, else in parentheses). A minor triad's major seventh: "m(maj7)", "m(maj9)",
/// "m6(maj7)", "m(maj7,11)".
fn push_triad(out: &mut HeardName, prefix: &str, intervals: u16) {
    let has = |bit: u16| intervals & bit != 0;
    out.push(prefix);
    let rest = intervals & (FOURTH | TRITONE);
    if has(MAJOR_SEVENTH) {
        if has(SIXTH) {
            out.push("6");
        }
        out.push(if has(NINTH) { "(maj9" } else { "(maj7" });
        for (bit, label) in [(FOURTH, ",11"), (TRITONE, ",#11")] {
            if has(bit) {
                out.push(label);
            }
        }
        return out.push(")");
    }
    match (has(SIXTH), has(NINTH)) {
        (true, true) => out.push("6/9"),
        (true, false) => out.push("6"),
        (false, true) => out.push("add9"),
        (false, false) if rest == FOURTH => return out.push("add11"),
        (false, false) if rest == TRITONE => return out.push("add#11"),
        (false, false) => {}
    }
    push_parenthesised(out, rest);
}

/// Sus4 suffixes: "sus4", "7sus4", "9sus4", "13sus4", "sus4add9", "6sus4", and "(b9)".
fn push_sus4(out: &mut HeardName, intervals: u16) {
    let has = |bit: u16| intervals & bit != 0;
    if has(MINOR_SEVENTH) {
        out.push(if has(SIXTH) {
            "13"
        } else if has(NINTH) {
            "9"
        } else {
            "7"
        });
        out.push("sus4");
    } else {
        if has(SIXTH) {
            out.push("6");
        }
        out.push("sus4");
        if has(NINTH) {
            out.push("add9");
        }
    }
    push_parenthesised(out, intervals & FLAT_NINTH);
}

/// Dominant, major and minor seventh suffixes: the highest natural extension replaces the 7,
/// the rest goes in parentheses.
fn push_seventh(out: &mut HeardName, quality: Quality, intervals: u16) {
    let has = |bit: u16| intervals & bit != 0;
    let minor = quality == Quality::Minor7;
    out.push(match quality {
        Quality::Major7 => "maj",
        Quality::Minor7 => "m",
        _ => "",
    });
    let (number, absorbed) = if has(SIXTH) {
        ("13", NINTH | if minor { FOURTH } else { 0 })
    } else if minor && has(FOURTH) && has(NINTH) {
        ("11", NINTH | FOURTH)
    } else if has(NINTH) {
        ("9", NINTH)
    } else {
        ("7", 0)
    };
    out.push(number);
    let rest = match quality {
        // Over a major third a minor third is the ♯9.
        Quality::Dominant7 => FLAT_NINTH | MINOR_THIRD | FOURTH | TRITONE | MINOR_SIXTH,
        _ => FOURTH | TRITONE,
    };
    push_parenthesised(out, intervals & rest & !absorbed);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pitch-class mask of MIDI notes.
    fn mask(notes: &[u8]) -> u16 {
        notes.iter().fold(0, |m, &n| m | 1 << (n % 12))
    }

    fn heard(notes: &[u8]) -> Option<HeardChord> {
        recognize(mask(notes), notes.iter().min().map(|n| n % 12))
    }

    #[test]
    fn every_input_is_safe_and_consistent() {
        // All 4096 sets × every bass hint (none, 0–11, and out-of-range values).
        let basses = (0..=13u8).map(Some).chain([None, Some(255)]);
        let basses: Vec<_> = basses.collect();
        for set in 0..=u16::MAX {
            if set > ALL_PITCH_CLASSES && set & 0xF000 != 0xF000 {
                // Upper bits are ignored; spot-check them with all four set.
                continue;
            }
            for &bass in &basses {
                let Some(c) = recognize(set, bass) else {
                    continue;
                };
                assert!(c.root < 12 && c.bass < 12, "{set:#x} {bass:?} {c:?}");
                assert!((0.0..=1.0).contains(&c.confidence));
                let sounding = (set & ALL_PITCH_CLASSES) | bass.map_or(0, |b| 1 << (b % 12));
                assert_eq!(c.pitch_classes(), sounding, "{set:#x} {bass:?} {c:?}");
                assert!(sounding.count_ones() >= 2);
                for (key, mode) in [(0, Mode::Ionian), (9, Mode::Aeolian), (200, Mode::Locrian)] {
                    let n = name(&c, key, mode);
                    assert!(n.as_str().len() < NAME_CAPACITY, "{n}");
                    assert!(!n.root().is_empty());
                    let numeral = to_numeral(&c, key, mode);
                    assert_eq!(theory::root_pitch_class(numeral, key, mode), c.root);
                }
            }
        }
    }

    #[test]
    fn fewer_than_two_pitch_classes_is_none() {
        assert_eq!(recognize(0, None), None);
        assert_eq!(recognize(1, None), None);
        assert_eq!(recognize(1 << 7, Some(7)), None);
        assert_eq!(recognize(0xF000, None), None);
        assert_eq!(heard(&[60, 72, 84]), None);
    }

    #[test]
    fn numerals_follow_the_modal_mixture_rule() {
        // Every mode, every pitch above the tonic: the numeral's root is that pitch, the shift
        // is −1..=1, and a scale tone is never shifted.
        for mode in Mode::ALL {
            for s in 0..12u8 {
                let (degree, shift) = degree_of(s, mode);
                let c = Chord {
                    degree,
                    shift,
                    quality: Quality::Major,
                };
                assert!((1..=7).contains(&degree) && (-1..=1).contains(&shift));
                assert_eq!(c.root_semitones(mode), s, "{mode:?} {s}");
                if mode.scale().contains(&(s as i8)) {
                    assert_eq!(shift, 0);
                }
            }
        }
        let numeral = |s, mode| {
            let (d, sh) = degree_of(s, mode);
            format!("{}{d}", ["b", "", "#"][(sh + 1) as usize])
        };
        let list = |mode| {
            [1u8, 3, 4, 6, 8, 9, 10, 11, 2, 5, 7]
                .into_iter()
                .filter(|&s| !mode_has(mode, s))
                .map(|s| numeral(s, mode))
                .collect::<Vec<_>>()
        };
        fn mode_has(mode: Mode, s: u8) -> bool {
            mode.scale().contains(&(s as i8))
        }
        assert_eq!(list(Mode::Ionian), ["b2", "b3", "#4", "b6", "b7"]);
        assert_eq!(list(Mode::Aeolian), ["b2", "#3", "#4", "#6", "#7"]);
        assert_eq!(list(Mode::Dorian), ["b2", "#3", "#4", "b6", "#7"]);
        assert_eq!(list(Mode::Mixolydian), ["b2", "b3", "#4", "b6", "#7"]);
        assert_eq!(list(Mode::Lydian), ["b2", "b3", "b6", "b7", "b4"]);
        assert_eq!(list(Mode::Phrygian), ["#3", "#4", "#6", "#7", "#2"]);
        assert_eq!(list(Mode::Locrian), ["#3", "#6", "#7", "#2", "#5"]);
    }

    #[test]
    fn numerals_of_heard_chords() {
        let num = |notes: &[u8], key, mode| to_numeral(&heard(notes).unwrap(), key, mode);
        let c = |degree, shift, quality| Chord {
            degree,
            shift,
            quality,
        };
        use Quality::*;
        // C Ionian: ii–V–I and the borrowed chords.
        assert_eq!(num(&[50, 65, 69, 72, 76], 0, Mode::Ionian), c(2, 0, Minor7));
        assert_eq!(
            num(&[43, 59, 64, 65, 69], 0, Mode::Ionian),
            c(5, 0, Dominant7)
        );
        assert_eq!(num(&[48, 64, 67, 71, 74], 0, Mode::Ionian), c(1, 0, Major7));
        assert_eq!(num(&[58, 62, 65], 0, Mode::Ionian), c(7, -1, Major));
        assert_eq!(num(&[56, 60, 63, 67], 0, Mode::Ionian), c(6, -1, Major7));
        assert_eq!(num(&[63, 67, 70], 0, Mode::Ionian), c(3, -1, Major));
        assert_eq!(num(&[61, 65, 68], 0, Mode::Ionian), c(2, -1, Major));
        assert_eq!(
            num(&[66, 69, 72, 76], 0, Mode::Ionian),
            c(4, 1, HalfDiminished7)
        );
        // A Aeolian: the raised degrees of harmonic and melodic minor, and the Neapolitan.
        assert_eq!(num(&[64, 68, 71, 74], 9, Mode::Aeolian), c(5, 0, Dominant7));
        assert_eq!(
            num(&[68, 71, 74, 77], 9, Mode::Aeolian),
            c(7, 1, Diminished)
        );
        assert_eq!(
            num(&[66, 69, 72, 76], 9, Mode::Aeolian),
            c(6, 1, HalfDiminished7)
        );
        assert_eq!(num(&[58, 62, 65], 9, Mode::Aeolian), c(2, -1, Major));
        assert_eq!(num(&[61, 65, 68], 9, Mode::Aeolian), c(3, 1, Major));
        // Third-less chords take the mode's triad: A5 is i, E5 v, C5 III in A Aeolian; B5 sits
        // on the diminished ii° and stays Major, as does a chromatic F#5.
        assert_eq!(num(&[45, 52], 9, Mode::Aeolian), c(1, 0, Minor));
        assert_eq!(num(&[40, 47, 52], 9, Mode::Aeolian), c(5, 0, Minor));
        assert_eq!(num(&[48, 55], 9, Mode::Aeolian), c(3, 0, Major));
        assert_eq!(num(&[47, 54], 9, Mode::Aeolian), c(2, 0, Major));
        assert_eq!(num(&[42, 49], 9, Mode::Aeolian), c(6, 1, Major));
        assert_eq!(num(&[57, 59, 64], 9, Mode::Aeolian), c(1, 0, Minor)); // Asus2
        assert_eq!(num(&[62, 64, 69], 0, Mode::Lydian), c(2, 0, Major)); // Dsus2 on Lydian's II
    }

    #[test]
    fn names_spell_like_theory() {
        let n = |notes: &[u8], key, mode| name(&heard(notes).unwrap(), key, mode).to_string();
        // Diatonic roots use the key's spelling, lowered ones flats, raised ones sharps.
        assert_eq!(n(&[58, 62, 65, 69], 5, Mode::Ionian), "Bbmaj7");
        assert_eq!(n(&[66, 70, 73], 0, Mode::Ionian), "F#");
        assert_eq!(n(&[61, 65, 68], 0, Mode::Ionian), "Db");
        assert_eq!(n(&[63, 66, 70, 73], 1, Mode::Ionian), "Ebm7");
        assert_eq!(n(&[63, 66, 70, 73], 4, Mode::Ionian), "D#m7");
        assert_eq!(n(&[68, 71, 74, 77], 9, Mode::Aeolian), "G#dim7");
        // The slash form.
        let c = heard(&[52, 55, 60]).unwrap();
        let slash = name(&c, 0, Mode::Ionian);
        assert_eq!(format!("{slash} {slash:#}"), "C C/E");
        assert_eq!(slash.root(), "C");
        assert_eq!(slash.suffix(), "");
        assert_eq!(slash.bass(), Some("E"));
        assert_eq!(bass_name(&c, 0, Mode::Ionian), Some("E"));
        let c = heard(&[56, 60, 63]).unwrap();
        assert_eq!(format!("{:#}", name(&c, 0, Mode::Ionian)), "Ab");
        let c = heard(&[60, 63, 68]).unwrap();
        assert_eq!(format!("{:#}", name(&c, 0, Mode::Ionian)), "Ab/C");
    }

    #[test]
    fn extensions_and_flags() {
        let c = heard(&[50, 65, 69, 72, 76]).unwrap(); // Dm9
        assert_eq!(c.extensions(), NINTH);
        assert!(!c.is_rootless() && !c.is_third_less());
        let c = heard(&[59, 65, 69]).unwrap(); // G9 rootless
        assert!(c.is_rootless());
        assert_eq!(c.root, 7);
        let c = heard(&[48, 55]).unwrap();
        assert!(c.is_third_less());
        assert!(c.confidence <= 0.6);
        // A complete, unambiguous seventh chord is fully confident; a tie-ruled one is not.
        assert_eq!(heard(&[55, 59, 62, 65]).unwrap().confidence, 1.0);
        assert!(recognize(mask(&[60, 64, 67, 69]), None).unwrap().confidence < 1.0);
        // The figures the integration notes quote.
        for set in 0..0x1000u16 {
            for bass in [None, Some(0)] {
                let Some(c) = recognize(set, bass) else {
                    continue;
                };
                if (set | bass.map_or(0, |b| 1 << b)).count_ones() == 2 {
                    assert!(c.confidence <= 0.54 + 1e-6, "{set:#x}");
                }
            }
        }
        let tie = recognize(mask(&[59, 62, 65, 68]), None).unwrap(); // Bdim7, no bass: 4-way tie
        assert!(tie.confidence <= 0.5);
    }

    /// Every chord the product voices, with the root in the bass as the product's bass line
    /// plays it, is heard back as that chord: same root, same quality, the name
    /// `theory::voiced_symbol` gives, and (when the numeral is the one `to_numeral` prefers for
    /// that root) the same numeral.
    #[test]
    fn the_products_own_voicings_are_heard_back() {
        use crate::music::progression::tokens;
        use crate::music::theory::{root_pitch_class, voice, voiced_symbol, Register};
        let mut checked = 0;
        for key in 0..12u8 {
            for mode in Mode::ALL {
                for t in 1..tokens::CHORD_VOCAB as u16 {
                    let chord = tokens::chord_from_token(t).unwrap().unwrap();
                    let v = voice(chord, key, mode, None, Register::CHORDS);
                    let root = root_pitch_class(chord, key, mode);
                    let set = mask(v.keys()) | 1 << root;
                    let h = recognize(set, Some(root)).unwrap_or_else(|| panic!("{chord:?}"));
                    let context = format!("{chord:?} in {key} {mode:?}: {h:?}");
                    assert_eq!(h.root, root, "{context}");
                    assert_eq!(h.quality, chord.quality, "{context}");
                    let want = voiced_symbol(chord, key, mode);
                    let got = name(&h, key, mode);
                    assert_eq!(got.suffix(), want.suffix, "{context}");
                    let numeral = to_numeral(&h, key, mode);
                    if numeral.degree == chord.degree && numeral.shift == chord.shift {
                        assert_eq!(numeral, chord, "{context}");
                        assert_eq!(got.to_string(), want.to_string(), "{context}");
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 12 * 7 * 168);
    }
}
