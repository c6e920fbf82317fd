//! Drums: a seeded, rule-based generator of lo-fi (boom-bap) grooves, and their performance.
//!
//! Two steps, like the other parts:
//!
//! 1. [`write_groove`] (worker thread; allocates one `Vec` of bars) writes a [`Groove`]: the drum
//!    part's tokens, 1–8 bars of a 16-step grid with a [`Level`] per sound and step. The grammar
//!    and the exact order of its seeded random draws are documented in [`grammar`] (the top of
//!    `grammar.rs`). It is a fixed set of rules with probabilities set by Energy — no model.
//!    The groove is what a session saves, what "Lock drums" keeps and what `--json` exports; its
//!    serde form is one 16-character string per sounding drum per bar (`serde_form.rs`).
//! 2. [`render_groove`] (worker thread, into reused buffers; never allocates) performs a groove
//!    over the phrase's bars with a [`DrumFeel`] — swing, Lazy, humanize and the Energy velocity
//!    curve (see `perform.rs`) — and hands out [`DrumHit`]s in time order. The integrator maps
//!    each hit's [`DrumSound`] to a MIDI key with a [`KitMap`] and makes it a `Note` of part
//!    `Drums` (channel 10 by default).
//!
//! Nothing here knows about plugin formats, threads or phrases: plain data in, plain data out.
//! `music::render` turns the hits into notes of the Drums part.

pub mod grammar;
mod perform;
mod serde_form;

pub use grammar::{write_groove, write_groove_with_info, GrooveInfo, GROOVE_STREAM};
pub use perform::{
    render_groove, DrumFeel, DrumHit, DRUM_TIMING_JITTER_BEATS, DRUM_VELOCITY_JITTER, HAT_ACCENT,
    HUMANIZE_STREAM, LAZY_EARLY_BEATS, LAZY_LATE_BEATS, MAX_HITS, MAX_SWING_PCT, NOTE_LEN_BEATS,
    SOUND_TRIM, VELOCITY_CURVE,
};

pub use super::progression::MAX_BARS;

/// Sixteenth-note steps in a bar: the groove's grid.
pub const STEPS_PER_BAR: usize = 16;
/// Length of one groove step (a sixteenth note) in quarter-note beats.
pub const SIXTEENTH_BEATS: f64 = 0.25;
/// Quarter-note beats in a bar (phrase bars are 4/4).
pub const BEATS_PER_BAR: f64 = super::progression::BEATS_PER_BAR as f64;

/// The drum sounds the part uses.
///
/// The explicit values are part of the saved state's meaning: they are the order of
/// [`KitMap::Chromatic`], the order in which a step's hits draw their humanize velocity, and the
/// tie-break between hits at the same instant. Never reorder.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DrumSound {
    /// Bass drum (GM 36).
    Kick = 0,
    /// Rim click (GM 37).
    SideStick = 1,
    /// Snare drum (GM 38).
    Snare = 2,
    /// Hand clap (GM 39).
    Clap = 3,
    /// Closed hi-hat (GM 42).
    ClosedHat = 4,
    /// Pedal hi-hat (GM 44).
    PedalHat = 5,
    /// Open hi-hat (GM 46).
    OpenHat = 6,
    /// Ride cymbal (GM 51).
    Ride = 7,
    /// Shaker (GM 70, maracas).
    Shaker = 8,
}

impl DrumSound {
    /// How many sounds there are.
    pub const COUNT: usize = 9;
    /// Every sound, in order.
    pub const ALL: [DrumSound; DrumSound::COUNT] = [
        DrumSound::Kick,
        DrumSound::SideStick,
        DrumSound::Snare,
        DrumSound::Clap,
        DrumSound::ClosedHat,
        DrumSound::PedalHat,
        DrumSound::OpenHat,
        DrumSound::Ride,
        DrumSound::Shaker,
    ];

    /// Position in [`DrumSound::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in the groove's serde form (snake case, as serde spells the variant).
    pub fn name(self) -> &'static str {
        match self {
            DrumSound::Kick => "kick",
            DrumSound::SideStick => "side_stick",
            DrumSound::Snare => "snare",
            DrumSound::Clap => "clap",
            DrumSound::ClosedHat => "closed_hat",
            DrumSound::PedalHat => "pedal_hat",
            DrumSound::OpenHat => "open_hat",
            DrumSound::Ride => "ride",
            DrumSound::Shaker => "shaker",
        }
    }

    /// The sound a serde-form name stands for.
    pub fn from_name(name: &str) -> Option<DrumSound> {
        DrumSound::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The backbeat family — snare, clap, side stick — which Lazy lays back.
    pub fn is_backbeat(self) -> bool {
        matches!(
            self,
            DrumSound::Snare | DrumSound::Clap | DrumSound::SideStick
        )
    }

    /// The timekeepers — closed, pedal and open hat, ride, shaker — which Lazy pushes slightly
    /// ahead and humanize accents by metric position.
    pub fn is_hat(self) -> bool {
        matches!(
            self,
            DrumSound::ClosedHat
                | DrumSound::PedalHat
                | DrumSound::OpenHat
                | DrumSound::Ride
                | DrumSound::Shaker
        )
    }
}

/// Which MIDI key each sound uses.
///
/// Both maps give every sound its own key, which is what makes "no overlapping notes on one
/// key" follow from "no overlapping hits of one sound" (see [`render_groove`]).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum KitMap {
    /// General MIDI percussion (channel 10): kick 36, side stick 37, snare 38, clap 39, closed
    /// hat 42, pedal hat 44, open hat 46, ride 51, shaker 70 (GM "Maracas").
    #[default]
    GeneralMidi,
    /// "Chromatic from C1": 36, 37, 38, … in [`DrumSound`] order, for samplers whose pads are
    /// sequential keys.
    Chromatic,
}

/// The General MIDI keys, in [`DrumSound`] order.
const GM_KEYS: [u8; DrumSound::COUNT] = [36, 37, 38, 39, 42, 44, 46, 51, 70];
/// First key of [`KitMap::Chromatic`]: 36, "C1" where middle C (60) is called C3 (Ableton, FL
/// Studio, Cubase), "C2" where it is called C4; the number is what counts.
const CHROMATIC_FIRST_KEY: u8 = 36;

impl KitMap {
    /// The MIDI key (0–127) `sound` is played on.
    pub fn key(self, sound: DrumSound) -> u8 {
        match self {
            KitMap::GeneralMidi => GM_KEYS[sound.index()],
            KitMap::Chromatic => CHROMATIC_FIRST_KEY + sound as u8,
        }
    }

    /// The sound a MIDI key stands for in this map, if any (the inverse of [`KitMap::key`]).
    pub fn sound(self, key: u8) -> Option<DrumSound> {
        DrumSound::ALL.into_iter().find(|&s| self.key(s) == key)
    }
}

/// How hard one cell of the grid is played.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// No hit. Serde char `.`.
    #[default]
    Off = 0,
    /// A ghost note (quiet). Serde char `g`.
    Ghost = 1,
    /// A normal hit. Serde char `x`.
    Normal = 2,
    /// An accent. Serde char `X`.
    Accent = 3,
}

impl Level {
    /// All levels, quietest first (index = the level's number).
    pub const ALL: [Level; 4] = [Level::Off, Level::Ghost, Level::Normal, Level::Accent];

    /// Whether the cell sounds.
    pub fn is_on(self) -> bool {
        self != Level::Off
    }

    /// The character of the serde form.
    pub fn to_char(self) -> char {
        match self {
            Level::Off => '.',
            Level::Ghost => 'g',
            Level::Normal => 'x',
            Level::Accent => 'X',
        }
    }

    /// The level a serde-form character stands for.
    pub fn from_char(c: char) -> Option<Level> {
        match c {
            '.' => Some(Level::Off),
            'g' => Some(Level::Ghost),
            'x' => Some(Level::Normal),
            'X' => Some(Level::Accent),
            _ => None,
        }
    }
}

/// One bar of a groove: a [`Level`] per sound and sixteenth step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct DrumBar {
    /// `cells[sound.index()][step]`.
    cells: [[Level; STEPS_PER_BAR]; DrumSound::COUNT],
}

impl DrumBar {
    /// A bar where nothing plays.
    pub const EMPTY: DrumBar = DrumBar {
        cells: [[Level::Off; STEPS_PER_BAR]; DrumSound::COUNT],
    };

    /// The level of `sound` at `step` (0–15; panics beyond).
    pub fn level(&self, sound: DrumSound, step: usize) -> Level {
        self.cells[sound.index()][step]
    }

    /// Sets the level of `sound` at `step` (0–15; panics beyond).
    pub fn set(&mut self, sound: DrumSound, step: usize, level: Level) {
        self.cells[sound.index()][step] = level;
    }

    /// Raises `sound` at `step` to at least `level` (a louder hit already there stays).
    pub fn raise(&mut self, sound: DrumSound, step: usize, level: Level) {
        let cell = &mut self.cells[sound.index()][step];
        *cell = (*cell).max(level);
    }

    /// The 16 levels of one sound.
    pub fn row(&self, sound: DrumSound) -> &[Level; STEPS_PER_BAR] {
        &self.cells[sound.index()]
    }

    /// Whether `sound` plays anywhere in the bar.
    pub fn sounds(&self, sound: DrumSound) -> bool {
        self.row(sound).iter().any(|l| l.is_on())
    }

    /// Number of hits in the bar (all sounds).
    pub fn onsets(&self) -> usize {
        self.cells.iter().flatten().filter(|l| l.is_on()).count()
    }

    /// One sound's row in the serde form: 16 of `.`, `g`, `x`, `X`.
    pub fn row_string(&self, sound: DrumSound) -> String {
        self.row(sound).iter().map(|l| l.to_char()).collect()
    }

    /// Parses a serde-form row (exactly 16 of `.`, `g`, `x`, `X`).
    pub fn parse_row(row: &str) -> Result<[Level; STEPS_PER_BAR], GrooveError> {
        let count = row.chars().count();
        if count != STEPS_PER_BAR {
            return Err(GrooveError::new(format!(
                "expected {STEPS_PER_BAR} steps of '.', 'g', 'x', 'X', got {count} ({row:?})"
            )));
        }
        let mut levels = [Level::Off; STEPS_PER_BAR];
        for (step, (slot, c)) in levels.iter_mut().zip(row.chars()).enumerate() {
            *slot = Level::from_char(c).ok_or_else(|| {
                GrooveError::new(format!(
                    "{c:?} at step {step} is not one of '.', 'g', 'x', 'X' ({row:?})"
                ))
            })?;
        }
        Ok(levels)
    }

    /// A bar from serde-form rows, e.g. `[(Kick, "X.........x....."), (Snare, "....X.......X...")]`;
    /// sounds not named are silent. Errors name the sound; a sound given twice is an error.
    pub fn from_rows(rows: &[(DrumSound, &str)]) -> Result<DrumBar, GrooveError> {
        let mut bar = DrumBar::EMPTY;
        let mut seen = [false; DrumSound::COUNT];
        for &(sound, row) in rows {
            if std::mem::replace(&mut seen[sound.index()], true) {
                return Err(GrooveError::new(format!("`{}`: given twice", sound.name())));
            }
            bar.cells[sound.index()] = DrumBar::parse_row(row)
                .map_err(|e| GrooveError::new(format!("`{}`: {e}", sound.name())))?;
        }
        Ok(bar)
    }
}

/// The written groove: the drum part's tokens, 1..=8 bars of a 16-step grid.
///
/// Saved with the session and its history, kept unchanged by "Lock drums", exported in
/// `--json`. Serde form: `{"bars": [{"kick": "X.........x.....", "snare": "....X.......X...",
/// …}, …]}` — per bar, one 16-character row per sounding drum (`.` none, `g` ghost, `x` normal,
/// `X` accent), silent drums omitted, in [`DrumSound`] order. Reading rejects anything else with
/// a message naming the field (`bars[2].kick: …`): unknown drums, rows that are not 16 steps
/// of those characters, a drum given twice, or a groove of 0 or more than 8 bars.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Groove {
    /// The bars, in order; a phrase longer than the groove repeats them cyclically.
    #[serde(deserialize_with = "serde_form::deserialize_bars")]
    pub bars: Vec<DrumBar>,
}

impl Groove {
    /// Number of hits over all bars.
    pub fn onsets(&self) -> usize {
        self.bars.iter().map(DrumBar::onsets).sum()
    }
}

/// A malformed groove (or row), with a message naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct GrooveError {
    /// What is wrong, naming the field.
    message: String,
}

impl GrooveError {
    fn new(message: String) -> GrooveError {
        GrooveError { message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn general_midi_keys_are_the_gm_percussion_keys() {
        use DrumSound::*;
        let gm = KitMap::GeneralMidi;
        let expected = [
            (Kick, 36),
            (SideStick, 37),
            (Snare, 38),
            (Clap, 39),
            (ClosedHat, 42),
            (PedalHat, 44),
            (OpenHat, 46),
            (Ride, 51),
            (Shaker, 70),
        ];
        for (sound, key) in expected {
            assert_eq!(gm.key(sound), key, "{sound:?}");
        }
        assert_eq!(KitMap::default(), KitMap::GeneralMidi);
    }

    #[test]
    fn chromatic_keys_count_up_from_36() {
        let keys: Vec<u8> = DrumSound::ALL
            .iter()
            .map(|&s| KitMap::Chromatic.key(s))
            .collect();
        assert_eq!(keys, [36, 37, 38, 39, 40, 41, 42, 43, 44]);
    }

    #[test]
    fn every_kit_map_gives_each_sound_its_own_key() {
        for map in [KitMap::GeneralMidi, KitMap::Chromatic] {
            let mut keys: Vec<u8> = DrumSound::ALL.iter().map(|&s| map.key(s)).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), DrumSound::COUNT, "{map:?}");
        }
    }

    #[test]
    fn names_round_trip_and_families_are_disjoint() {
        for s in DrumSound::ALL {
            assert_eq!(DrumSound::from_name(s.name()), Some(s));
            assert!(!(s.is_hat() && s.is_backbeat()), "{s:?}");
        }
        assert_eq!(DrumSound::from_name("cowbell"), None);
        assert!(!DrumSound::Kick.is_hat() && !DrumSound::Kick.is_backbeat());
    }

    #[test]
    fn rows_parse_and_reject() {
        let bar = DrumBar::from_rows(&[(DrumSound::Kick, "X.g.x...........")]).unwrap();
        assert_eq!(bar.level(DrumSound::Kick, 0), Level::Accent);
        assert_eq!(bar.level(DrumSound::Kick, 2), Level::Ghost);
        assert_eq!(bar.level(DrumSound::Kick, 4), Level::Normal);
        assert_eq!(bar.onsets(), 3);
        assert_eq!(bar.row_string(DrumSound::Kick), "X.g.x...........");
        let short = DrumBar::from_rows(&[(DrumSound::Snare, "x...")]).unwrap_err();
        assert!(
            short.to_string().starts_with("`snare`: expected 16 steps"),
            "{short}"
        );
        let bad = DrumBar::from_rows(&[(DrumSound::Ride, "x..o............")]).unwrap_err();
        assert!(bad.to_string().contains("'o' at step 3"), "{bad}");
        let twice = DrumBar::from_rows(&[
            (DrumSound::Clap, "................"),
            (DrumSound::Clap, "................"),
        ])
        .unwrap_err();
        assert_eq!(twice.to_string(), "`clap`: given twice");
    }
}
