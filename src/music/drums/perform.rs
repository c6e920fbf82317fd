//! Performance: a [`Groove`] and a [`DrumFeel`] → time-ordered [`DrumHit`]s. Runs on the worker
//! thread into reused buffers, so it never allocates: the hits are gathered in a fixed array on
//! the stack ([`MAX_HITS`] entries, about 28 KB), sorted in place and handed to the caller.
//!
//! Where step `s` (0–15) of phrase bar `b` lands, in quarter-note beats:
//!
//! ```text
//! start = max(0, grid + swing + lazy + jitter)
//! grid   = 4b + s/4
//! swing  = d × [0, ½, 1, ½][s mod 4],   d = swing_pct/100 × ½ beat
//! lazy   = +lazy_pct/100 × 1/24 beat   snare, clap, side stick (29.4 ms at 85 BPM)
//!          −lazy_pct/100 × 1/96 beat   closed/pedal/open hat, ride, shaker (7.4 ms at 85 BPM)
//!           0                          kick
//! jitter = humanize_pct/100 × 0.02 beat × (2u − 1)   one u per grid line (14.1 ms at 85 BPM)
//! ```
//!
//! The swing term is the piecewise-linear warp of each beat `[0, ½] → [0, ½ + d]`,
//! `[½, 1] → [½ + d, 1]` read at the sixteenths: off-beat eighths move by exactly `d`, as
//! `swing()` in `render.rs` moves them, and the sixteenths either side move by `d/2`, so they
//! stay in order (at 60 % swing a beat's sixteenths land at 0, 0.4, 0.8, 0.9).
//!
//! Velocity (then rounded half away from zero and clamped to 1–127):
//!
//! ```text
//! base[level] + rise[level] × energy + trim[sound]          (VELOCITY_CURVE, SOUND_TRIM)
//!   + humanize_pct/100 × HAT_ACCENT[s mod 4]                 timekeepers only
//!   + humanize_pct/100 × 8 × (2u − 1)                        one u per hit
//! ```
//!
//! Humanize draws from its own ChaCha8 stream, `seed_from_u64(humanize_seed)` with
//! `set_stream(HUMANIZE_STREAM)` (3, the product's part number for Drums; chords, bass and
//! melody use 0–2): for each grid line in time order (bar, then step), one timing uniform, then
//! one velocity uniform per hit on that line in [`DrumSound`] order. Uniforms are the top 53
//! bits of `next_u64()` / 2⁵³. At humanize 0 nothing is drawn and every hit is on the grid.
//!
//! Lengths: [`NOTE_LEN_BEATS`] (1/16 beat), cut short where needed so a hit ends no later than
//! the next hit of the same sound starts, and no later than the phrase end. Each [`KitMap`]
//! gives each sound its own key, so no two notes overlap on one MIDI key.
//!
//! [`KitMap`]: super::KitMap

use super::{DrumSound, Groove, Level, BEATS_PER_BAR, MAX_BARS, SIXTEENTH_BEATS, STEPS_PER_BAR};
use crate::music::progression::EIGHTH_BEATS;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Largest swing, in percent of an eighth note (as the other parts).
pub const MAX_SWING_PCT: f32 = crate::music::knobs::SWING_PCT.max;
/// How far each sixteenth of a beat moves, in units of the eighth-note swing delay `d`.
const SWING_SHAPE: [f64; 4] = [0.0, 0.5, 1.0, 0.5];
/// At 100 % Lazy, snare, clap and side stick land this many beats late: 29.4 ms at 85 BPM.
pub const LAZY_LATE_BEATS: f64 = 1.0 / 24.0;
/// At 100 % Lazy, the timekeepers land this many beats early: 7.4 ms at 85 BPM.
pub const LAZY_EARLY_BEATS: f64 = 1.0 / 96.0;
/// Timing jitter at 100 % humanize: ± this many beats (14.1 ms at 85 BPM; half the melody's,
/// since drums are heard as the grid).
pub const DRUM_TIMING_JITTER_BEATS: f64 = 0.02;
/// Velocity jitter at 100 % humanize: ± this much.
pub const DRUM_VELOCITY_JITTER: f64 = 8.0;
/// Metric accent of timekeeper hits at 100 % humanize, by `step mod 4`: the beat louder, the
/// off-beat eighth a little softer, the sixteenths between softest.
pub const HAT_ACCENT: [f64; 4] = [6.0, -8.0, -3.0, -8.0];
/// Length of every hit (drums are one-shots; the length only matters to gated samplers).
pub const NOTE_LEN_BEATS: f64 = 1.0 / 16.0;
/// The ChaCha8 stream of the humanize seed that the drums' jitter uses (Drums = part 3).
pub const HUMANIZE_STREAM: u64 = 3;
/// Most hits a performance can hold: every sound on every step of 8 bars.
pub const MAX_HITS: usize = MAX_BARS * STEPS_PER_BAR * DrumSound::COUNT;

/// Velocity by level, `(base, rise)`: `base + rise × energy`, indexed by the level's number.
/// Ghost 34–50, normal 70–100, accent 90–122 (before the sound's trim).
pub const VELOCITY_CURVE: [(f64, f64); 4] = [(0.0, 0.0), (34.0, 16.0), (70.0, 30.0), (90.0, 32.0)];

/// Added to each sound's velocity, in [`DrumSound`] order: the timekeepers and the side stick
/// sit under kick and snare.
pub const SOUND_TRIM: [f64; DrumSound::COUNT] =
    [0.0, -6.0, 0.0, -4.0, -10.0, -14.0, -6.0, -8.0, -16.0];

/// Feel applied when the groove is performed (the same swing/humanize knobs as the other parts).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrumFeel {
    /// 0..=1 (NaN = 0.5): scales velocities along [`VELOCITY_CURVE`].
    pub energy: f32,
    /// 0..=60 % of an eighth note (NaN = 0): off-beat eighths delayed by `swing_pct`/100 × ½ beat.
    pub swing_pct: f32,
    /// 0..=100 (NaN = 0): timing jitter, velocity jitter and the timekeepers' metric accents.
    pub humanize_pct: f32,
    /// The groove's seed: seeds the humanize stream.
    pub humanize_seed: u64,
    /// 0..=100 (NaN = 0): snare/clap/side stick laid back, timekeepers pushed slightly ahead.
    pub lazy_pct: f32,
}

impl Default for DrumFeel {
    /// Neutral: straight, on the grid, medium energy.
    fn default() -> DrumFeel {
        DrumFeel {
            energy: 0.5,
            swing_pct: 0.0,
            humanize_pct: 0.0,
            humanize_seed: 0,
            lazy_pct: 0.0,
        }
    }
}

/// One drum note, in quarter-note beats from the phrase start (phrase bars are 4/4).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrumHit {
    /// Onset, in `0..bars × 4`.
    pub start_beats: f64,
    /// Duration: [`NOTE_LEN_BEATS`] or less (see the module docs).
    pub len_beats: f64,
    /// What is hit; [`KitMap::key`](super::KitMap::key) gives its MIDI key.
    pub sound: DrumSound,
    /// MIDI velocity, 1–127.
    pub velocity: u8,
}

impl DrumHit {
    /// Filler for the fixed hit buffer.
    const EMPTY: DrumHit = DrumHit {
        start_beats: 0.0,
        len_beats: 0.0,
        sound: DrumSound::Kick,
        velocity: 0,
    };
}

/// Performs `groove` over `bars` phrase bars (1..=8, clamped; the groove's bars repeat
/// cyclically if it is shorter), calling `out` for each hit in time order (ties in
/// [`DrumSound`] order). An empty groove plays nothing. Never allocates.
pub fn render_groove(groove: &Groove, bars: u32, feel: &DrumFeel, out: &mut impl FnMut(DrumHit)) {
    if groove.bars.is_empty() {
        return;
    }
    let bars = bars.clamp(1, MAX_BARS as u32) as usize;
    let feel = Feel::new(feel);
    let mut humanizer = Humanizer::new(feel.humanize_seed, feel.humanize);
    let mut buffer = [DrumHit::EMPTY; MAX_HITS];
    let mut count = 0;
    for bar in 0..bars {
        let cells = &groove.bars[bar % groove.bars.len()];
        for step in 0..STEPS_PER_BAR {
            let jitter_beats = humanizer.timing_beats();
            let swung_beats = feel.swung_beats(bar, step);
            for sound in DrumSound::ALL {
                let level = cells.level(sound, step);
                if !level.is_on() {
                    continue;
                }
                let start_beats = (swung_beats + feel.lazy_beats(sound) + jitter_beats).max(0.0);
                let velocity = feel.velocity(level, sound, step, humanizer.velocity());
                buffer[count] = DrumHit {
                    start_beats,
                    len_beats: NOTE_LEN_BEATS,
                    sound,
                    velocity,
                };
                count += 1;
            }
        }
    }
    let hits = &mut buffer[..count];
    // In place, no allocation (unlike the stable sort); the key is total, so the order is too.
    hits.sort_unstable_by(|a, b| {
        a.start_beats
            .total_cmp(&b.start_beats)
            .then(a.sound.cmp(&b.sound))
    });
    let mut next_start = [bars as f64 * BEATS_PER_BAR; DrumSound::COUNT];
    for hit in hits.iter_mut().rev() {
        let next = &mut next_start[hit.sound.index()];
        hit.len_beats = capped_len_beats(hit.start_beats, *next);
        *next = hit.start_beats;
    }
    for &hit in hits.iter() {
        out(hit);
    }
}

/// [`NOTE_LEN_BEATS`], or less so that `start_beats + len` never lands after `limit_beats`.
fn capped_len_beats(start_beats: f64, limit_beats: f64) -> f64 {
    if start_beats + NOTE_LEN_BEATS <= limit_beats {
        return NOTE_LEN_BEATS;
    }
    // As `exact_len_beats` in render.rs: round down until the end is not past the limit.
    let mut len = limit_beats - start_beats;
    while len > 0.0 && start_beats + len > limit_beats {
        len = len.next_down();
    }
    len
}

/// `x` clamped to `lo..=hi`, NaN read as `nan`.
fn clamp_setting(x: f32, lo: f32, hi: f32, nan: f32) -> f64 {
    f64::from(if x.is_nan() { nan } else { x.clamp(lo, hi) })
}

/// The feel, clamped and in the units the formulas use.
struct Feel {
    /// 0–1.
    energy: f64,
    /// The swing delay of an off-beat eighth, in beats.
    swing_beats: f64,
    /// Humanize, 0–1.
    humanize: f64,
    /// Lazy, 0–1.
    lazy: f64,
    /// Seed of the humanize stream.
    humanize_seed: u64,
}

impl Feel {
    fn new(feel: &DrumFeel) -> Feel {
        let swing_pct = clamp_setting(feel.swing_pct, 0.0, MAX_SWING_PCT, 0.0);
        Feel {
            energy: clamp_setting(feel.energy, 0.0, 1.0, 0.5),
            swing_beats: swing_pct / 100.0 * EIGHTH_BEATS,
            humanize: clamp_setting(feel.humanize_pct, 0.0, 100.0, 0.0) / 100.0,
            lazy: clamp_setting(feel.lazy_pct, 0.0, 100.0, 0.0) / 100.0,
            humanize_seed: feel.humanize_seed,
        }
    }

    /// Step `step` of phrase bar `bar`, swung, in beats.
    fn swung_beats(&self, bar: usize, step: usize) -> f64 {
        let grid_beats = (bar * STEPS_PER_BAR + step) as f64 * SIXTEENTH_BEATS;
        grid_beats + self.swing_beats * SWING_SHAPE[step % 4]
    }

    /// Lazy's offset for `sound`, in beats.
    fn lazy_beats(&self, sound: DrumSound) -> f64 {
        if sound.is_backbeat() {
            self.lazy * LAZY_LATE_BEATS
        } else if sound.is_hat() {
            -(self.lazy * LAZY_EARLY_BEATS)
        } else {
            0.0
        }
    }

    /// The velocity of a hit; `jitter` in [−1, 1).
    fn velocity(&self, level: Level, sound: DrumSound, step: usize, jitter: f64) -> u8 {
        let (base, rise) = VELOCITY_CURVE[level as usize];
        let mut v = base + rise * self.energy;
        v += SOUND_TRIM[sound.index()];
        if sound.is_hat() {
            v += self.humanize * HAT_ACCENT[step % 4];
        }
        v += self.humanize * DRUM_VELOCITY_JITTER * jitter;
        v.round().clamp(1.0, 127.0) as u8
    }
}

/// The drums' humanize stream; draws nothing at humanize 0.
struct Humanizer {
    /// Stream [`HUMANIZE_STREAM`] of the humanize seed, or None at humanize 0.
    rng: Option<ChaCha8Rng>,
    /// Humanize, 0–1.
    amount: f64,
}

impl Humanizer {
    fn new(seed: u64, amount: f64) -> Humanizer {
        let rng = (amount > 0.0).then(|| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(HUMANIZE_STREAM);
            rng
        });
        Humanizer { rng, amount }
    }

    /// Uniform in [−1, 1) from the top 53 bits of one draw, or 0 when not humanizing.
    fn unit(&mut self) -> f64 {
        match &mut self.rng {
            Some(rng) => 2.0 * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) - 1.0,
            None => 0.0,
        }
    }

    /// A grid line's timing offset, in beats.
    fn timing_beats(&mut self) -> f64 {
        self.unit() * self.amount * DRUM_TIMING_JITTER_BEATS
    }

    /// A hit's velocity jitter in [−1, 1) (scaled by the caller).
    fn velocity(&mut self) -> f64 {
        self.unit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_length_never_passes_the_limit() {
        assert_eq!(capped_len_beats(1.0, 2.0), NOTE_LEN_BEATS);
        assert_eq!(capped_len_beats(1.0, 1.0625), NOTE_LEN_BEATS);
        let len = capped_len_beats(0.1, 0.13);
        assert!(len > 0.0 && len < NOTE_LEN_BEATS && 0.1 + len <= 0.13);
        for i in 0..1000 {
            let start = 0.3 + f64::from(i) * 1e-3;
            let limit = start + 1e-3 * f64::from(i % 70);
            let len = capped_len_beats(start, limit);
            assert!(start + len <= limit || len == 0.0);
            assert!(len <= NOTE_LEN_BEATS);
        }
    }

    #[test]
    fn swing_is_the_piecewise_linear_warp() {
        // The warp [0, ½] → [0, ½ + d], [½, 1] → [½ + d, 1], written out, against the shape.
        for pct in [0.0f32, 20.0, 50.0, 60.0] {
            let feel = Feel::new(&DrumFeel {
                swing_pct: pct,
                ..DrumFeel::default()
            });
            let d = f64::from(pct) / 100.0 * 0.5;
            for step in 0..16 {
                let f = (step % 4) as f64 / 4.0;
                let warped = if f <= 0.5 {
                    f * (0.5 + d) / 0.5
                } else {
                    0.5 + d + (f - 0.5) * (0.5 - d) / 0.5
                };
                let expected = (step / 4) as f64 + warped;
                assert!((feel.swung_beats(0, step) - expected).abs() < 1e-12);
            }
        }
    }
}
