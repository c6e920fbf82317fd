//! The band: Lofi Loom's built-in instruments (keys, melody, bass, kit) and the lo-fi texture
//! chain on their mix. Owned by the audio thread: [`Band::new`] allocates everything (off the
//! audio thread); every other method is real-time safe — no allocation, lock, syscall or
//! panic, bounded loops only.
//!
//! Guarantees (each has a test in `tests/band_*.rs`):
//! * **Block-size invariance.** All state advances per sample; knobs are smoothed per sample
//!   and their targets depend only on the settings, so a span rendered in one call or split
//!   into any sizes gives the same samples, bit for bit.
//! * **Deterministic.** Noise is seeded; `reset` restores the state of `new`.
//! * **Safe output.** Peak below −1 dBFS at any settings, DC blocked, no NaN for any input.
//! * **Idle fast path.** When nothing sounds and every tail has decayed, `render` writes zeros
//!   for almost no cost. Idleness is decided only on a fixed grid of [`CHUNK`] samples counted
//!   from `reset`, so it too is independent of block sizes.
//!
//! Velocity: 1..=127; a note-on with velocity 0 is a note-off (the MIDI convention).

mod bass;
mod dsp;
mod keys;
mod kit;
mod melody;
mod texture;
mod voice;

use crate::music::knobs::KnobRange;
use dsp::{db_to_gain, Smoother};

/// Internal processing chunk, in samples (scratch buffer size and the idle-decision grid).
const CHUNK: usize = 256;
/// A tail is done once the mix (before the master gain) and the room stay below this (−120 dB)…
const TAIL_FLOOR: f32 = 1e-6;
/// … for this long, in seconds.
const TAIL_HOLD_S: f32 = 0.25;
/// Instrument level smoothing, in seconds.
const LEVEL_TAU_S: f32 = 0.02;
/// Sample rates accepted by [`Band::new`], in Hz (anything else is clamped; NaN → 48 kHz).
const SAMPLE_RATE_RANGE_HZ: (f32, f32) = (8_000.0, 384_000.0);

/// Which built-in instrument plays a note (the plugin maps each generated part to one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instrument {
    /// Electric piano, 24 voices (chords).
    Keys,
    /// Lead voice, 6 voices (melody).
    Melody,
    /// Mono legato bass.
    Bass,
    /// Drums on General MIDI keys.
    Kit,
}

/// The melody voice's character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MelodyVoice {
    /// Marimba-like, short and woody.
    #[default]
    SoftMallet,
    /// Bell-like electric piano, longer ring.
    BellKeys,
    /// Sustained, low-passed lead with delayed vibrato.
    MutedLead,
}

/// One instrument's switch and level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstrumentSettings {
    /// Whether it is heard (off = level fades to silence in ~20 ms; notes still run).
    pub on: bool,
    /// Level, −60..=+6 dB; the bottom of the range, −60 dB, is silence (as off), so a part's
    /// built-in instrument can be silenced while its MIDI still plays.
    pub level_db: f32,
}

/// Everything the user can set, read once per block from the plugin's parameters.
/// Out-of-range values are clamped; NaN means the default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoundSettings {
    /// Electric piano.
    pub keys: InstrumentSettings,
    /// Melody voice.
    pub melody: InstrumentSettings,
    /// Bass.
    pub bass: InstrumentSettings,
    /// Drums.
    pub kit: InstrumentSettings,
    /// The melody's character.
    pub melody_voice: MelodyVoice,
    /// 0..=1 low-pass: 0 = open (bypassed), else cutoff `20 kHz · (1/25)^tone`
    /// (0.35 ≈ 6.5 kHz, 0.5 = 4 kHz, 1 = 800 Hz), 12 dB/octave.
    pub tone: f32,
    /// 0..=1 tape wow (0.55 Hz + 0.23 Hz drift, ±14 cents at 1) and flutter (6.3 Hz, ±8 cents).
    pub wobble: f32,
    /// 0..=1 tape saturation (pre-gain up to +17 dB, level-compensated).
    pub drive: f32,
    /// 0..=1 vinyl crackle and hiss (only while playing; fades out 0.3 s after stop).
    pub dust: f32,
    /// 0..=1 bit depth (16 → 6 bits) and sample rate (fs → 8 kHz) reduction.
    pub crush: f32,
    /// 0..=1 small-room reverb send.
    pub space: f32,
    /// Master level, −60..=+6 dB.
    pub master_db: f32,
}

/// Shorthand for an instrument that is on at `level_db`.
const fn on(level_db: f32) -> InstrumentSettings {
    InstrumentSettings { on: true, level_db }
}

/// The default: sounds like lo-fi the moment it is inserted.
pub const DEFAULT_SETTINGS: SoundSettings = SoundSettings {
    keys: on(0.0),
    melody: on(0.0),
    bass: on(0.0),
    kit: on(0.0),
    melody_voice: MelodyVoice::SoftMallet,
    tone: 0.35,
    wobble: 0.3,
    drive: 0.3,
    dust: 0.25,
    crush: 0.1,
    space: 0.25,
    master_db: 0.0,
};

impl Default for SoundSettings {
    fn default() -> Self {
        DEFAULT_SETTINGS
    }
}

/// A texture stage's range as the parameters show it: 0–100 %, the band reads 0–1.
const fn texture_pct(default: f32) -> KnobRange {
    KnobRange {
        min: 0.0,
        max: 100.0,
        default: default * 100.0,
    }
}

/// An instrument's level, in dB.
pub const LEVEL_DB: KnobRange = KnobRange {
    min: -60.0,
    max: 6.0,
    default: 0.0,
};
/// The master level, in dB.
pub const MASTER_DB: KnobRange = LEVEL_DB;
/// Tone, percent.
pub const TONE_PCT: KnobRange = texture_pct(DEFAULT_SETTINGS.tone);
/// Wobble, percent.
pub const WOBBLE_PCT: KnobRange = texture_pct(DEFAULT_SETTINGS.wobble);
/// Drive, percent.
pub const DRIVE_PCT: KnobRange = texture_pct(DEFAULT_SETTINGS.drive);
/// Dust, percent.
pub const DUST_PCT: KnobRange = texture_pct(DEFAULT_SETTINGS.dust);
/// Crush, percent.
pub const CRUSH_PCT: KnobRange = texture_pct(DEFAULT_SETTINGS.crush);
/// Space, percent.
pub const SPACE_PCT: KnobRange = texture_pct(DEFAULT_SETTINGS.space);

/// Named presets.
pub const PRESETS: [(&str, SoundSettings); 4] = [
    (
        "Dusty tape",
        SoundSettings {
            tone: 0.5,
            wobble: 0.55,
            drive: 0.45,
            dust: 0.55,
            crush: 0.2,
            ..DEFAULT_SETTINGS
        },
    ),
    (
        "Clean keys",
        SoundSettings {
            tone: 0.1,
            wobble: 0.0,
            drive: 0.05,
            dust: 0.0,
            crush: 0.0,
            space: 0.2,
            ..DEFAULT_SETTINGS
        },
    ),
    (
        "Late night",
        SoundSettings {
            melody_voice: MelodyVoice::BellKeys,
            tone: 0.6,
            wobble: 0.35,
            drive: 0.2,
            dust: 0.3,
            crush: 0.05,
            space: 0.45,
            kit: on(-3.0),
            ..DEFAULT_SETTINGS
        },
    ),
    (
        "Broken cassette",
        SoundSettings {
            melody_voice: MelodyVoice::MutedLead,
            tone: 0.55,
            wobble: 0.9,
            drive: 0.6,
            dust: 0.4,
            crush: 0.45,
            space: 0.15,
            ..DEFAULT_SETTINGS
        },
    ),
];

/// Settings after clamping and NaN replacement, with levels as linear gains.
#[derive(Debug, Clone, Copy)]
struct Sanitized {
    /// Keys, melody, bass, kit gains (0 when off).
    gains: [f32; 4],
    /// The melody's character.
    melody_voice: MelodyVoice,
    /// 0..=1.
    tone: f32,
    /// 0..=1.
    wobble: f32,
    /// 0..=1.
    drive: f32,
    /// 0..=1.
    dust: f32,
    /// 0..=1.
    crush: f32,
    /// 0..=1.
    space: f32,
    /// −60..=+6 dB.
    master_db: f32,
}

/// A 0..=1 knob: NaN → its default, else clamped.
fn unit(x: f32, default: f32) -> f32 {
    if x.is_nan() {
        default
    } else {
        x.clamp(0.0, 1.0)
    }
}

/// A level in dB: NaN → its default, else clamped to −60..=+6.
fn level_db(x: f32, default: f32) -> f32 {
    if x.is_nan() {
        default
    } else {
        x.clamp(LEVEL_DB.min, LEVEL_DB.max)
    }
}

impl Sanitized {
    /// Clamps everything into range.
    fn new(s: &SoundSettings) -> Sanitized {
        let d = DEFAULT_SETTINGS;
        let gain = |i: InstrumentSettings, def: InstrumentSettings| {
            let db = level_db(i.level_db, def.level_db);
            if i.on && db > LEVEL_DB.min {
                db_to_gain(db)
            } else {
                0.0
            }
        };
        Sanitized {
            gains: [
                gain(s.keys, d.keys),
                gain(s.melody, d.melody),
                gain(s.bass, d.bass),
                gain(s.kit, d.kit),
            ],
            melody_voice: s.melody_voice,
            tone: unit(s.tone, d.tone),
            wobble: unit(s.wobble, d.wobble),
            drive: unit(s.drive, d.drive),
            dust: unit(s.dust, d.dust),
            crush: unit(s.crush, d.crush),
            space: unit(s.space, d.space),
            master_db: level_db(s.master_db, d.master_db),
        }
    }
}

/// Scratch buffers for one chunk of each instrument's output.
#[derive(Debug, Clone)]
struct Bus {
    /// Keys, left and right.
    keys: [[f32; CHUNK]; 2],
    /// Melody, left and right.
    melody: [[f32; CHUNK]; 2],
    /// Bass (mono).
    bass: [f32; CHUNK],
    /// Kit, left and right.
    kit: [[f32; CHUNK]; 2],
}

/// The band: four instruments and the texture chain.
pub struct Band {
    /// Sample rate in Hz.
    fs: f32,
    /// Electric piano.
    keys: keys::Keys,
    /// Melody voice.
    melody: melody::Melody,
    /// Bass.
    bass: bass::Bass,
    /// Drums.
    kit: kit::Kit,
    /// Master-bus texture chain.
    texture: texture::Texture,
    /// Smoothed instrument gains (keys, melody, bass, kit).
    gains: [Smoother; 4],
    /// Scratch buffers (boxed: allocated once in `new`).
    bus: Box<Bus>,
    /// Samples rendered since reset (places the idle grid).
    clock_samples: u64,
    /// Consecutive samples whose mix stayed below [`TAIL_FLOOR`].
    quiet_samples: u64,
    /// [`TAIL_HOLD_S`] in samples.
    hold_samples: u64,
    /// Whether everything has decayed (render writes zeros).
    idle: bool,
    /// Whether the next render is the first since reset (smoothers jump to their targets).
    fresh: bool,
    /// The settings the smoothers' targets were computed from (None after reset): unchanged
    /// settings skip the per-call maths.
    settings: Option<SoundSettings>,
    /// The melody's character from those settings.
    melody_voice: MelodyVoice,
}

impl Band {
    /// Allocates everything for this sample rate (call off the audio thread).
    pub fn new(sample_rate: f32) -> Band {
        let fs = if sample_rate.is_nan() {
            48_000.0
        } else {
            sample_rate.clamp(SAMPLE_RATE_RANGE_HZ.0, SAMPLE_RATE_RANGE_HZ.1)
        };
        let mut band = Band {
            fs,
            keys: keys::Keys::new(fs),
            melody: melody::Melody::new(fs),
            bass: bass::Bass::new(fs),
            kit: kit::Kit::new(fs),
            texture: texture::Texture::new(fs),
            gains: [Smoother::new(0.0, LEVEL_TAU_S, fs); 4],
            bus: Box::new(Bus {
                keys: [[0.0; CHUNK]; 2],
                melody: [[0.0; CHUNK]; 2],
                bass: [0.0; CHUNK],
                kit: [[0.0; CHUNK]; 2],
            }),
            clock_samples: 0,
            quiet_samples: 0,
            hold_samples: (TAIL_HOLD_S * fs) as u64,
            idle: true,
            fresh: true,
            settings: None,
            melody_voice: MelodyVoice::default(),
        };
        band.reset();
        band
    }

    /// Real-time safe: silences every voice and returns all state (filters, delay lines, LFO
    /// phases, noise seeds, transport = stopped) to that of `new`, so a render after reset is
    /// reproducible.
    pub fn reset(&mut self) {
        self.keys.reset();
        self.melody.reset();
        self.bass.reset();
        self.kit.reset();
        self.texture.reset();
        self.gains = [Smoother::new(0.0, LEVEL_TAU_S, self.fs); 4];
        self.clock_samples = 0;
        self.quiet_samples = self.hold_samples;
        self.idle = true;
        self.fresh = true;
        self.settings = None;
    }

    /// Starts a note. `key` is MIDI 0..=127 (for [`Instrument::Kit`] a General MIDI drum key);
    /// velocity 1..=127, and 0 means note-off. Out-of-range keys are ignored.
    pub fn note_on(&mut self, instrument: Instrument, key: u8, velocity: u8) {
        if key > 127 {
            return;
        }
        if velocity == 0 {
            return self.note_off(instrument, key);
        }
        let velocity = velocity.min(127);
        let sounds = match instrument {
            Instrument::Keys => self.keys.note_on(key, velocity),
            Instrument::Melody => self.melody.note_on(key, velocity),
            Instrument::Bass => self.bass.note_on(key, velocity),
            Instrument::Kit => self.kit.note_on(key, velocity),
        };
        self.idle &= !sounds;
    }

    /// Releases a note (natural release). The kit's one-shots ignore it.
    pub fn note_off(&mut self, instrument: Instrument, key: u8) {
        match instrument {
            Instrument::Keys => self.keys.note_off(key),
            Instrument::Melody => self.melody.note_off(key),
            Instrument::Bass => self.bass.note_off(key),
            Instrument::Kit => {}
        }
    }

    /// Releases every sounding note (natural release, no click) and damps the kit's ringing
    /// hits over `kit::DAMP_FADE_S`: for a transport stop.
    pub fn release_all(&mut self) {
        self.keys.release_all();
        self.melody.release_all();
        self.bass.release_all();
        self.kit.damp();
    }

    /// [`Band::release_all`], except the keys' notes of `held_keys` (bit k = key k), which
    /// go on sounding: for a transport stop while the musician's notes are played through.
    pub fn release_all_but_keys(&mut self, held_keys: u128) {
        if held_keys == 0 {
            return self.release_all();
        }
        for key in 0..128u8 {
            if held_keys & (1 << key) == 0 {
                self.keys.note_off(key);
            }
        }
        self.melody.release_all();
        self.bass.release_all();
        self.kit.damp();
    }

    /// Whether the transport plays: dust runs only while it does, fading over 0.3 s.
    pub fn set_playing(&mut self, playing: bool) {
        self.texture.set_playing(playing);
    }

    /// True when nothing sounds and every tail has decayed: `render` then writes zeros.
    pub fn is_idle(&self) -> bool {
        self.idle
    }

    /// Renders the next `left.len()` samples (0..=8192 or more) with no events inside the span,
    /// writing (not adding) the output. Should the slices differ in length, the excess of the
    /// longer one is zeroed.
    pub fn render(&mut self, settings: &SoundSettings, left: &mut [f32], right: &mut [f32]) {
        let n = left.len().min(right.len());
        let (left, rest_l) = left.split_at_mut(n);
        let (right, rest_r) = right.split_at_mut(n);
        rest_l.fill(0.0);
        rest_r.fill(0.0);
        if self.settings != Some(*settings) {
            self.settings = Some(*settings);
            self.set_targets(&Sanitized::new(settings));
        }
        if self.fresh {
            self.fresh = false;
            self.snap();
        }
        let mut pos = 0;
        while pos < n {
            if self.idle && self.texture.dust_live() {
                self.idle = false;
            }
            if self.idle {
                self.snap();
                left[pos..].fill(0.0);
                right[pos..].fill(0.0);
                self.clock_samples += (n - pos) as u64;
                return;
            }
            let to_grid = CHUNK - (self.clock_samples % CHUNK as u64) as usize;
            let len = to_grid.min(n - pos);
            self.render_chunk(&mut left[pos..pos + len], &mut right[pos..pos + len]);
            pos += len;
            self.clock_samples += len as u64;
            if self.clock_samples.is_multiple_of(CHUNK as u64) {
                self.idle = self.tails_done();
            }
        }
    }

    /// Sets the smoothers' targets from the settings.
    fn set_targets(&mut self, s: &Sanitized) {
        for (g, t) in self.gains.iter_mut().zip(s.gains) {
            g.target = t;
        }
        self.melody_voice = s.melody_voice;
        self.texture.set_targets(s);
    }

    /// Jumps every smoother to its target.
    fn snap(&mut self) {
        self.gains.iter_mut().for_each(Smoother::snap);
        self.texture.snap();
    }

    /// Whether nothing sounds and every tail has stayed below the floor long enough.
    fn tails_done(&self) -> bool {
        let sounding = self.keys.is_active()
            || self.melody.is_active()
            || self.bass.is_active()
            || self.kit.is_active()
            || self.texture.dust_live();
        !sounding && self.quiet_samples >= self.hold_samples
    }

    /// Renders at most [`CHUNK`] samples: instruments, mix, texture.
    fn render_chunk(&mut self, left: &mut [f32], right: &mut [f32]) {
        let len = left.len().min(CHUNK);
        let bus = &mut *self.bus;
        let [keys_l, keys_r] = &mut bus.keys;
        self.keys.render(&mut keys_l[..len], &mut keys_r[..len]);
        let [mel_l, mel_r] = &mut bus.melody;
        self.melody
            .render(self.melody_voice, &mut mel_l[..len], &mut mel_r[..len]);
        self.bass.render(&mut bus.bass[..len]);
        let [kit_l, kit_r] = &mut bus.kit;
        self.kit.render(&mut kit_l[..len], &mut kit_r[..len]);
        let [gk, gm, gb, gd] = &mut self.gains;
        for (n, (l, r)) in left.iter_mut().zip(right.iter_mut()).enumerate().take(len) {
            let (k, m, b, d) = (gk.next(), gm.next(), gb.next(), gd.next());
            *l = k * keys_l[n] + m * mel_l[n] + b * bus.bass[n] + d * kit_l[n];
            *r = k * keys_r[n] + m * mel_r[n] + b * bus.bass[n] + d * kit_r[n];
        }
        match self.texture.process(left, right, TAIL_FLOOR) {
            Some(i) => self.quiet_samples = (len - 1 - i) as u64,
            None => self.quiet_samples += len as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders one second of a keys chord with `keys` as the keys' settings, the texture's
    /// noise off.
    fn keys_chord(keys: InstrumentSettings) -> (Vec<f32>, Vec<f32>) {
        let settings = SoundSettings {
            keys,
            dust: 0.0,
            ..DEFAULT_SETTINGS
        };
        let mut band = Band::new(48_000.0);
        band.set_playing(true);
        for key in [57, 60, 64, 67] {
            band.note_on(Instrument::Keys, key, 100);
        }
        let (mut l, mut r) = (vec![0.0; 48_000], vec![0.0; 48_000]);
        for (l, r) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
            band.render(&settings, l, r);
        }
        (l, r)
    }

    #[test]
    fn the_bottom_of_the_level_range_is_silence_like_off() {
        let at = |on, level_db| keys_chord(InstrumentSettings { on, level_db });
        let off = at(false, 0.0);
        assert_eq!(at(true, LEVEL_DB.min), off);
        assert_eq!(
            at(true, -1000.0),
            off,
            "below the range is clamped to its bottom"
        );
        // Just above the bottom it is quiet but heard.
        let quiet = at(true, LEVEL_DB.min + 0.5);
        assert!(quiet.0.iter().any(|&x| x != 0.0));
    }
}
