//! Every parameter of the plugin, with stable ids (never rename one once released), ranges and
//! text formatters that round-trip exactly, plus the persisted non-parameter session.
//!
//! Ranges and defaults come from [`crate::music::knobs`], declared once for the parameters, the
//! command line and the editor. Written by the host (automation) and the GUI; read by the
//! audio thread as atomics ([`LofiParams::knobs`]).

use crate::audio::band::{self, InstrumentSettings, MelodyVoice, SoundSettings};
use crate::audio::control::RegenerateMode;
use crate::audio::engine::SoundBlock;
use crate::audio::follow::FollowMode;
use crate::audio::sequencer::SwapMode;
use crate::editor::layout::EDITOR_SIZE;
use crate::music::drums::KitMap;
use crate::music::knobs::{self, KnobRange, Knobs, PartSettings, Sampling};
use crate::music::progression::Mode;
use crate::session::SessionCell;
use nice_plug::params::persist::PersistentField;
use nice_plug::prelude::*;
use std::sync::{Arc, Mutex};

/// Phrase length choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PhraseBars {
    #[id = "1"]
    #[name = "1 bar"]
    One,
    #[id = "2"]
    #[name = "2 bars"]
    Two,
    #[id = "4"]
    #[name = "4 bars"]
    Four,
    #[id = "8"]
    #[name = "8 bars"]
    Eight,
}

impl PhraseBars {
    /// Length in bars.
    pub fn bars(self) -> u32 {
        match self {
            PhraseBars::One => 1,
            PhraseBars::Two => 2,
            PhraseBars::Four => 4,
            PhraseBars::Eight => 8,
        }
    }
}

/// When the plugin writes a new phrase by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum RegenerateChoice {
    /// Only when Regenerate is pressed.
    #[id = "manual"]
    Manual,
    /// A new phrase (new seed) every time the current one ends.
    #[id = "every-phrase"]
    #[name = "Every phrase"]
    EveryPhrase,
    /// When Energy or Valence move (same seed, so the music evolves instead of jumping).
    #[id = "knob-moves"]
    #[name = "When a knob moves"]
    KnobMoves,
}

impl RegenerateChoice {
    /// The requester's mode.
    pub fn mode(self) -> RegenerateMode {
        match self {
            RegenerateChoice::Manual => RegenerateMode::Manual,
            RegenerateChoice::EveryPhrase => RegenerateMode::EveryPhrase,
            RegenerateChoice::KnobMoves => RegenerateMode::KnobMoves,
        }
    }
}

/// When a new phrase replaces the playing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SwapAt {
    #[id = "next-bar"]
    #[name = "Next bar"]
    NextBar,
    #[id = "phrase-end"]
    #[name = "End of phrase"]
    PhraseEnd,
}

impl SwapAt {
    /// The sequencer's swap mode.
    pub fn mode(self) -> SwapMode {
        match self {
            SwapAt::NextBar => SwapMode::EveryBar,
            SwapAt::PhraseEnd => SwapMode::EndOfPhrase,
        }
    }
}

/// Which MIDI key each drum sound uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum KitChoice {
    /// General MIDI: kick 36, side stick 37, snare 38, clap 39, closed hat 42, pedal hat 44,
    /// open hat 46, ride 51, shaker 70.
    #[id = "gm"]
    #[name = "General MIDI"]
    GeneralMidi,
    /// Sequential pads from C1 (36, 37, 38, …) in the order above.
    #[id = "chromatic"]
    #[name = "Chromatic from C1"]
    Chromatic,
}

impl KitChoice {
    /// The drum part's key map.
    pub fn kit(self) -> KitMap {
        match self {
            KitChoice::GeneralMidi => KitMap::GeneralMidi,
            KitChoice::Chromatic => KitMap::Chromatic,
        }
    }
}

/// Whether the built-in band plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum SoundChoice {
    /// The built-in band plays the parts (and the MIDI is sent too).
    #[id = "built-in"]
    #[name = "Built-in"]
    BuiltIn,
    /// Only MIDI is sent; the audio output is silent, for your own instruments.
    #[id = "midi-only"]
    #[name = "MIDI only"]
    MidiOnly,
}

/// The melody instrument's character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum MelodyVoiceChoice {
    /// Marimba-like, short and woody.
    #[id = "soft-mallet"]
    #[name = "Soft mallet"]
    SoftMallet,
    /// Bell-like electric piano with a longer ring.
    #[id = "bell-keys"]
    #[name = "Bell keys"]
    BellKeys,
    /// A sustained, low-passed lead.
    #[id = "muted-lead"]
    #[name = "Muted lead"]
    MutedLead,
}

impl MelodyVoiceChoice {
    /// The band's melody voice.
    pub fn voice(self) -> MelodyVoice {
        match self {
            MelodyVoiceChoice::SoftMallet => MelodyVoice::SoftMallet,
            MelodyVoiceChoice::BellKeys => MelodyVoice::BellKeys,
            MelodyVoiceChoice::MutedLead => MelodyVoice::MutedLead,
        }
    }

    /// The choice for a band voice.
    pub fn of(voice: MelodyVoice) -> MelodyVoiceChoice {
        match voice {
            MelodyVoice::SoftMallet => MelodyVoiceChoice::SoftMallet,
            MelodyVoice::BellKeys => MelodyVoiceChoice::BellKeys,
            MelodyVoice::MutedLead => MelodyVoiceChoice::MutedLead,
        }
    }
}

/// What the next phrase follows in the MIDI input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum FollowChoice {
    /// Nothing: the input is only played through.
    #[id = "off"]
    Off,
    /// The key and mode of what is played fill the Key and Mode set to Auto.
    #[id = "key"]
    Key,
    /// The key, and each bar's chord: a phrase played becomes the next phrase's chords.
    #[id = "chords"]
    Chords,
    /// As Chords, and while a chord is held the bass and melody move to it at once.
    #[id = "live"]
    Live,
}

impl FollowChoice {
    /// The listener's mode.
    pub fn mode(self) -> FollowMode {
        match self {
            FollowChoice::Off => FollowMode::Off,
            FollowChoice::Key => FollowMode::Key,
            FollowChoice::Chords => FollowMode::Chords,
            FollowChoice::Live => FollowMode::Live,
        }
    }
}

/// Key choice: Auto (the generator's / the loaded progression's own) or a fixed tonic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum KeyChoice {
    #[id = "auto"]
    Auto,
    #[id = "c"]
    C,
    #[id = "c#"]
    #[name = "C#/Db"]
    CSharp,
    #[id = "d"]
    D,
    #[id = "eb"]
    #[name = "D#/Eb"]
    EFlat,
    #[id = "e"]
    E,
    #[id = "f"]
    F,
    #[id = "f#"]
    #[name = "F#/Gb"]
    FSharp,
    #[id = "g"]
    G,
    #[id = "ab"]
    #[name = "G#/Ab"]
    AFlat,
    #[id = "a"]
    A,
    #[id = "bb"]
    #[name = "A#/Bb"]
    BFlat,
    #[id = "b"]
    B,
}

impl KeyChoice {
    /// The fixed tonic pitch class (0 = C), or None for Auto.
    pub fn pitch_class(self) -> Option<u8> {
        match self {
            KeyChoice::Auto => None,
            k => Some(k as u8 - 1),
        }
    }
}

/// Mode choice: Auto or one of the seven modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ModeChoice {
    #[id = "auto"]
    Auto,
    #[id = "ionian"]
    #[name = "Ionian (major)"]
    Ionian,
    #[id = "dorian"]
    Dorian,
    #[id = "phrygian"]
    Phrygian,
    #[id = "lydian"]
    Lydian,
    #[id = "mixolydian"]
    Mixolydian,
    #[id = "aeolian"]
    #[name = "Aeolian (minor)"]
    Aeolian,
    #[id = "locrian"]
    Locrian,
}

impl ModeChoice {
    /// The fixed mode, or None for Auto.
    pub fn mode(self) -> Option<Mode> {
        match self {
            ModeChoice::Auto => None,
            m => Mode::ALL.get(m as usize - 1).copied(),
        }
    }
}

/// A float parameter over `range`, shown as a number with `decimals` decimals and an optional
/// unit. The text form parses back to exactly the value it shows (values snap to the step
/// size).
fn float_param(
    name: &str,
    range: KnobRange,
    step: f32,
    decimals: usize,
    unit: &'static str,
) -> FloatParam {
    let KnobRange { min, max, default } = range;
    FloatParam::new(name, default, FloatRange::Linear { min, max })
        .with_step_size(step)
        .with_unit(unit)
        .with_value_to_string(Arc::new(move |v| format!("{v:.decimals$}")))
        .with_string_to_value(Arc::new(move |s| parse_number(s, unit)))
}

/// Parses "0.30", " 25 %", "25%": the unit is optional.
pub fn parse_number(text: &str, unit: &str) -> Option<f32> {
    let t = text.trim();
    let t = t.strip_suffix(unit.trim()).unwrap_or(t).trim();
    t.parse::<f32>().ok().filter(|v| v.is_finite())
}

/// One part's switches: on/off, MIDI channel (1–16 as users see it), octave shift.
#[derive(Params)]
pub struct PartParams {
    /// Whether the part plays.
    #[id = "on"]
    pub enabled: BoolParam,
    /// MIDI channel 1–16.
    #[id = "channel"]
    pub channel: IntParam,
    /// Octave shift −2..=2.
    #[id = "octave"]
    pub octave: IntParam,
}

impl PartParams {
    fn new(part: &str, channel: i32) -> PartParams {
        PartParams {
            enabled: BoolParam::new(format!("{part} on"), true),
            channel: IntParam::new(
                format!("{part} channel"),
                channel,
                IntRange::Linear {
                    min: i32::from(knobs::CHANNELS.0),
                    max: i32::from(knobs::CHANNELS.1),
                },
            ),
            octave: IntParam::new(
                format!("{part} octave"),
                0,
                IntRange::Linear {
                    min: i32::from(knobs::OCTAVES.0),
                    max: i32::from(knobs::OCTAVES.1),
                },
            ),
        }
    }

    /// The render settings of this part.
    pub fn settings(&self) -> PartSettings {
        let (lo, hi) = knobs::CHANNELS;
        let (down, up) = knobs::OCTAVES;
        PartSettings {
            enabled: self.enabled.value(),
            channel: (self.channel.value().clamp(i32::from(lo), i32::from(hi)) - 1) as u8,
            octave: self.octave.value().clamp(i32::from(down), i32::from(up)) as i8,
        }
    }
}

/// The drum part's switches: on/off, MIDI channel (1–16 as users see it), kit map.
#[derive(Params)]
pub struct DrumParams {
    /// Whether the drums play.
    #[id = "on"]
    pub enabled: BoolParam,
    /// MIDI channel 1–16 (10 by default, the General MIDI drum channel).
    #[id = "channel"]
    pub channel: IntParam,
    /// Which key each drum sound uses.
    #[id = "kit"]
    pub kit: EnumParam<KitChoice>,
}

impl DrumParams {
    fn new() -> DrumParams {
        let (lo, hi) = knobs::CHANNELS;
        DrumParams {
            enabled: BoolParam::new("Drums on", true),
            channel: IntParam::new(
                "Drums channel",
                10,
                IntRange::Linear {
                    min: i32::from(lo),
                    max: i32::from(hi),
                },
            ),
            kit: EnumParam::new("Drum kit map", KitChoice::GeneralMidi),
        }
    }

    /// The drum part's settings (its octave is not used).
    pub fn settings(&self) -> PartSettings {
        let (lo, hi) = knobs::CHANNELS;
        PartSettings {
            enabled: self.enabled.value(),
            channel: (self.channel.value().clamp(i32::from(lo), i32::from(hi)) - 1) as u8,
            octave: 0,
        }
    }
}

/// The built-in band: whether it plays, instrument levels, the melody voice and the lo-fi
/// texture on the mix. Read by the audio thread once per block ([`SoundParams::block`]).
#[derive(Params)]
pub struct SoundParams {
    /// Built-in band or MIDI only.
    #[id = "sound"]
    pub sound: EnumParam<SoundChoice>,
    /// Electric piano (chords) level.
    #[id = "keys-level"]
    pub keys_level: FloatParam,
    /// Melody instrument level.
    #[id = "melody-level"]
    pub melody_level: FloatParam,
    /// Bass level.
    #[id = "bass-level"]
    pub bass_level: FloatParam,
    /// Drum kit level.
    #[id = "kit-level"]
    pub kit_level: FloatParam,
    /// The melody instrument.
    #[id = "melody-voice"]
    pub melody_voice: EnumParam<MelodyVoiceChoice>,
    /// Low-pass, percent (0 = open).
    #[id = "tone"]
    pub tone: FloatParam,
    /// Tape wow and flutter, percent.
    #[id = "wobble"]
    pub wobble: FloatParam,
    /// Tape saturation, percent.
    #[id = "drive"]
    pub drive: FloatParam,
    /// Vinyl crackle and hiss, percent.
    #[id = "dust"]
    pub dust: FloatParam,
    /// Bit depth and sample-rate reduction, percent.
    #[id = "crush"]
    pub crush: FloatParam,
    /// Small-room reverb, percent.
    #[id = "space"]
    pub space: FloatParam,
    /// Master level.
    #[id = "master"]
    pub master: FloatParam,
}

impl SoundParams {
    fn new() -> SoundParams {
        let level = |name: &str| float_param(name, band::LEVEL_DB, 0.5, 1, " dB");
        let pct = |name: &str, range| float_param(name, range, 1.0, 0, " %");
        SoundParams {
            sound: EnumParam::new("Sound", SoundChoice::BuiltIn),
            keys_level: level("Keys level"),
            melody_level: level("Melody level"),
            bass_level: level("Bass level"),
            kit_level: level("Kit level"),
            melody_voice: EnumParam::new("Melody voice", MelodyVoiceChoice::SoftMallet),
            tone: pct("Tone", band::TONE_PCT),
            wobble: pct("Wobble", band::WOBBLE_PCT),
            drive: pct("Drive", band::DRIVE_PCT),
            dust: pct("Dust", band::DUST_PCT),
            crush: pct("Crush", band::CRUSH_PCT),
            space: pct("Space", band::SPACE_PCT),
            master: float_param("Master", band::MASTER_DB, 0.5, 1, " dB"),
        }
    }

    /// What the engine does with sound this block; each instrument is on when its part is
    /// (atomics only: real-time safe).
    pub fn block(&self, parts: [bool; 4], kit: KitMap) -> SoundBlock {
        let instrument = |on, level: &FloatParam| InstrumentSettings {
            on,
            level_db: level.value(),
        };
        let [chords, bass, melody, drums] = parts;
        SoundBlock {
            built_in: self.sound.value() == SoundChoice::BuiltIn,
            settings: SoundSettings {
                keys: instrument(chords, &self.keys_level),
                melody: instrument(melody, &self.melody_level),
                bass: instrument(bass, &self.bass_level),
                kit: instrument(drums, &self.kit_level),
                melody_voice: self.melody_voice.value().voice(),
                tone: self.tone.value() / 100.0,
                wobble: self.wobble.value() / 100.0,
                drive: self.drive.value() / 100.0,
                dust: self.dust.value() / 100.0,
                crush: self.crush.value() / 100.0,
                space: self.space.value() / 100.0,
                master_db: self.master.value(),
            },
            kit,
        }
    }

    /// Each float parameter of the band with the value `preset` gives it (texture in percent,
    /// levels in dB): what choosing a preset sets.
    pub fn preset_values(&self, preset: &SoundSettings) -> [(&FloatParam, f32); 11] {
        // Whole percents, as the parameters step.
        let pct = |x: f32| (x * 100.0).round();
        [
            (&self.keys_level, preset.keys.level_db),
            (&self.melody_level, preset.melody.level_db),
            (&self.bass_level, preset.bass.level_db),
            (&self.kit_level, preset.kit.level_db),
            (&self.master, preset.master_db),
            (&self.tone, pct(preset.tone)),
            (&self.wobble, pct(preset.wobble)),
            (&self.drive, pct(preset.drive)),
            (&self.dust, pct(preset.dust)),
            (&self.crush, pct(preset.crush)),
            (&self.space, pct(preset.space)),
        ]
    }
}

/// All parameters and the persisted session.
#[derive(Params)]
pub struct LofiParams {
    /// How busy and driving the music is, 0–1.
    #[id = "energy"]
    pub energy: FloatParam,
    /// How bright and happy it sounds, 0–1.
    #[id = "valence"]
    pub valence: FloatParam,
    /// Off-beat eighths delayed by this percent of an eighth note (0 = straight, 33 ≈ triplet).
    #[id = "swing"]
    pub swing: FloatParam,
    /// Timing and velocity looseness, percent.
    #[id = "humanize"]
    pub humanize: FloatParam,
    /// Phrase length.
    #[id = "bars"]
    pub bars: EnumParam<PhraseBars>,
    /// When new phrases are written without pressing Regenerate.
    #[id = "regen-mode"]
    pub regenerate_mode: EnumParam<RegenerateChoice>,
    /// Flip (either way) to write a new phrase with a new seed.
    #[id = "regenerate"]
    pub regenerate: BoolParam,
    /// When a new phrase replaces the playing one.
    #[id = "swap-at"]
    pub swap_at: EnumParam<SwapAt>,
    /// Tonic: Auto or fixed.
    #[id = "key"]
    pub key: EnumParam<KeyChoice>,
    /// Mode: Auto or fixed.
    #[id = "mode"]
    pub mode: EnumParam<ModeChoice>,
    /// Chords part.
    #[nested(id_prefix = "chords", group = "Chords")]
    pub chords: PartParams,
    /// Bass part.
    #[nested(id_prefix = "bass", group = "Bass")]
    pub bass: PartParams,
    /// Melody part.
    #[nested(id_prefix = "melody", group = "Melody")]
    pub melody: PartParams,
    /// Drums part.
    #[nested(id_prefix = "drums", group = "Drums")]
    pub drums: DrumParams,
    /// How far the snare lays back and the hats push ahead, percent.
    #[id = "lazy"]
    pub lazy: FloatParam,
    /// New phrases keep the playing groove.
    #[id = "lock-drums"]
    pub lock_drums: BoolParam,
    /// Flip (either way) to write a new groove and keep the chords and melody.
    #[id = "regenerate-drums"]
    pub regenerate_drums: BoolParam,
    /// Host bypass: all notes end and nothing plays.
    #[id = "bypass"]
    pub bypass: BoolParam,
    /// New phrases keep the playing phrase's chords and write a new melody over them.
    #[id = "lock-chords"]
    pub lock_chords: BoolParam,
    /// New phrases keep the playing melody's rhythm (onsets, holds, rests) and choose new
    /// pitches for it.
    #[id = "lock-rhythm"]
    pub lock_rhythm: BoolParam,
    /// The built-in band.
    #[nested(group = "Sound")]
    pub sound: SoundParams,
    /// When playback starts, seeks or loops into the middle of a chord, bass or melody note,
    /// start it there instead of waiting for the next one.
    #[id = "chase"]
    pub chase: BoolParam,
    /// Play the MIDI input through: to the MIDI output at the same sample offsets, and on the
    /// built-in keys when the sound is Built-in.
    #[id = "thru"]
    pub thru: BoolParam,
    /// What the next phrase follows in the MIDI input: nothing, the key, or the chords.
    #[id = "follow"]
    pub follow: EnumParam<FollowChoice>,

    /// Seed, progression, history and model choice: what makes a reopened project play the
    /// same notes.
    #[persist = "session"]
    pub session: SessionCell,
    /// The editor window's logical size (width, height), kept with the project.
    #[persist = "editor-size"]
    pub editor_size: Mutex<(u32, u32)>,
}

impl Default for LofiParams {
    fn default() -> Self {
        LofiParams {
            energy: float_param("Energy", knobs::ENERGY, 0.01, 2, ""),
            valence: float_param("Valence", knobs::VALENCE, 0.01, 2, ""),
            swing: float_param("Swing", knobs::SWING_PCT, 1.0, 0, " %"),
            humanize: float_param("Humanize", knobs::HUMANIZE_PCT, 1.0, 0, " %"),
            bars: EnumParam::new("Phrase length", PhraseBars::Four),
            regenerate_mode: EnumParam::new("Regenerate mode", RegenerateChoice::KnobMoves),
            regenerate: BoolParam::new("Regenerate", false),
            swap_at: EnumParam::new("Swap at", SwapAt::PhraseEnd),
            key: EnumParam::new("Key", KeyChoice::Auto),
            mode: EnumParam::new("Mode", ModeChoice::Auto),
            chords: PartParams::new("Chords", 1),
            bass: PartParams::new("Bass", 2),
            melody: PartParams::new("Melody", 3),
            drums: DrumParams::new(),
            lazy: float_param("Lazy", knobs::LAZY_PCT, 1.0, 0, " %"),
            lock_drums: BoolParam::new("Lock drums", false),
            regenerate_drums: BoolParam::new("Drums only", false),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            lock_chords: BoolParam::new("Lock chords", false),
            lock_rhythm: BoolParam::new("Lock melody rhythm", false),
            chase: BoolParam::new("Chase notes", true),
            thru: BoolParam::new("Thru", true),
            follow: EnumParam::new("Follow", FollowChoice::Off),
            sound: SoundParams::new(),
            session: SessionCell::default(),
            editor_size: Mutex::new(EDITOR_SIZE),
        }
    }
}

impl LofiParams {
    /// Reads the current values (atomics only: real-time safe).
    pub fn knobs(&self) -> Knobs {
        Knobs {
            energy: self.energy.value(),
            valence: self.valence.value(),
            swing_pct: self.swing.value(),
            humanize_pct: self.humanize.value(),
            bars: self.bars.value().bars(),
            key: self.key.value().pitch_class(),
            mode: self.mode.value().mode(),
            chords: self.chords.settings(),
            bass: self.bass.settings(),
            melody: self.melody.settings(),
            drums: self.drums.settings(),
            lazy_pct: self.lazy.value(),
            kit: self.drums.kit.value().kit(),
            lock_drums: self.lock_drums.value(),
            lock_chords: self.lock_chords.value(),
            lock_rhythm: self.lock_rhythm.value(),
            sampling: Sampling::default(),
            heard_chords: [None; crate::music::progression::MAX_BARS],
        }
    }
}

/// The session is stored as its typed value, a JSON object (older versions stored a JSON
/// string, which is still read). Rejecting a damaged one is the session's job, not nice-plug's:
/// a bad field never fails the whole state load.
impl<'a> PersistentField<'a, serde_json::Value> for SessionCell {
    fn set(&self, new_value: serde_json::Value) {
        self.restore_value(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&serde_json::Value) -> R,
    {
        f(&self.saved_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every float parameter, found through the parameter map (so a new one cannot be left
    /// out), formats to text that parses back to the same value, with and without its unit.
    #[test]
    fn float_params_round_trip_through_text() {
        let p = LofiParams::default();
        let map = p.param_map();
        let floats: Vec<(&str, &FloatParam)> = map
            .iter()
            .filter_map(|(id, ptr, _)| match ptr {
                // SAFETY: the pointer is to a field of `p`, which outlives this loop and is
                // not moved while the map is used.
                ParamPtr::FloatParam(f) => Some((id.as_str(), unsafe { &**f })),
                _ => None,
            })
            .collect();
        let ids: Vec<&str> = floats.iter().map(|(id, _)| *id).collect();
        for id in [
            "energy",
            "melody-level",
            "bass-level",
            "kit-level",
            "master",
        ] {
            assert!(
                ids.contains(&id),
                "{id} not among the float parameters {ids:?}"
            );
        }
        for (_, param) in floats {
            for i in 0..=200 {
                let normalized = i as f32 / 200.0;
                let plain = param.preview_plain(normalized);
                let text = param.normalized_value_to_string(param.preview_normalized(plain), false);
                let back = param.string_to_normalized_value(&text).expect("parses");
                assert_eq!(param.preview_plain(back), plain, "{} {text}", param.name());
                let with_unit =
                    param.normalized_value_to_string(param.preview_normalized(plain), true);
                let back = param
                    .string_to_normalized_value(&with_unit)
                    .expect("parses with unit");
                assert_eq!(
                    param.preview_plain(back),
                    plain,
                    "{} {with_unit}",
                    param.name()
                );
            }
        }
        assert_eq!(
            p.swing
                .normalized_value_to_string(p.swing.preview_normalized(25.0), true),
            "25 %"
        );
        assert_eq!(p.energy.normalized_value_to_string(0.3, false), "0.30");
        assert_eq!(p.energy.string_to_normalized_value("nonsense"), None);
    }

    #[test]
    fn choices_map_to_values() {
        assert_eq!(KeyChoice::Auto.pitch_class(), None);
        assert_eq!(KeyChoice::C.pitch_class(), Some(0));
        assert_eq!(KeyChoice::B.pitch_class(), Some(11));
        assert_eq!(ModeChoice::Auto.mode(), None);
        assert_eq!(ModeChoice::Ionian.mode(), Some(Mode::Ionian));
        assert_eq!(ModeChoice::Locrian.mode(), Some(Mode::Locrian));
        let defaults = LofiParams::default().knobs();
        assert_eq!(
            (
                defaults.chords.channel,
                defaults.bass.channel,
                defaults.melody.channel
            ),
            (0, 1, 2)
        );
    }

    /// The command line, export and the tests write with `Knobs::default()`: it must be what
    /// a fresh instance's parameters say.
    #[test]
    fn a_fresh_instance_plays_the_default_knobs() {
        assert_eq!(LofiParams::default().knobs(), Knobs::default());
    }

    /// A fresh instance's band is the band's own default, and each preset maps onto the
    /// parameters it sets (and back, through `block`).
    #[test]
    fn the_sound_parameters_start_at_the_band_defaults_and_carry_presets() {
        let p = LofiParams::default();
        let block = p.sound.block([true; 4], KitMap::GeneralMidi);
        assert!(block.built_in);
        assert_eq!(block.settings, band::DEFAULT_SETTINGS);
        for (_, preset) in band::PRESETS {
            let values = p.sound.preset_values(&preset);
            for (param, value) in values {
                assert!(
                    param.preview_normalized(value) >= 0.0
                        && param.preview_plain(param.preview_normalized(value)) == value,
                    "{} {value}",
                    param.name()
                );
            }
        }
        let off = p.sound.block([false, true, true, true], KitMap::Chromatic);
        assert_eq!(off.kit, KitMap::Chromatic);
        assert!(!off.settings.keys.on && off.settings.bass.on);
    }
}
