//! Small shared DSP primitives for the band: a cheap sine and sine LFO, a soft clipper, a
//! seeded noise generator, one-pole and state-variable filters, a parameter smoother, a delay
//! line and the bass's envelope. Runs on the audio thread; only `DelayLine::new` allocates
//! (called from `Band::new`). Nothing here panics: indices are masked, float casts saturate.

use std::f32::consts::{FRAC_PI_2, PI};

/// Below this magnitude a feedback state is flushed to zero, so long silences never reach
/// denormal numbers (which stall some CPUs by 100×). −400 dB: far below anything audible.
const FLUSH_FLOOR: f32 = 1e-20;

/// Flushes a feedback state that has decayed to nothing (denormal guard).
#[inline]
pub fn flush(x: f32) -> f32 {
    if x.abs() < FLUSH_FLOOR {
        0.0
    } else {
        x
    }
}

/// Adding then subtracting this rounds an f32 of magnitude below 2²² to the nearest integer
/// (1.5·2²³: the sum has no fractional bits left).
const ROUND_MAGIC: f32 = 12_582_912.0;

/// sin(2π·`phase_turns`) for phases of magnitude below 2²² turns, by a 7th-order odd
/// polynomial on a folded triangle (error < 2e-4, harmonics below −75 dB). Branch-free and
/// without casts or libm calls, so loops over it vectorise.
#[inline]
pub fn sin_turns(phase_turns: f32) -> f32 {
    // u = x − round(x) ∈ [−½, ½] for x = t + ¾; then y = 1 − 4|u| is a triangle in [−1, 1]
    // with sin(2πt) = sin(π/2 · y).
    let x = phase_turns + 0.75;
    let u = x - ((x + ROUND_MAGIC) - ROUND_MAGIC);
    let y = 1.0 - 4.0 * u.abs();
    let y2 = y * y;
    y * (FRAC_PI_2 + y2 * (-0.645_964_1 + y2 * (0.079_692_6 + y2 * -0.004_681_8)))
}

/// A sine LFO by the "magic circle" recursion: two multiply-adds per sample and no
/// transcendental call. The recursion preserves area, so its amplitude neither grows nor
/// decays (rounding drifts it by ~0.1 % over hours).
#[derive(Debug, Clone, Copy)]
pub struct Lfo {
    /// Sine output.
    s: f32,
    /// Quadrature state.
    c: f32,
    /// 2·sin(π·f/fs).
    k: f32,
}

impl Lfo {
    /// An LFO at `hz`, starting at phase 0.
    pub fn new(hz: f32, sample_rate_hz: f32) -> Lfo {
        Lfo {
            s: 0.0,
            c: 1.0,
            k: 2.0 * (PI * hz / sample_rate_hz).sin(),
        }
    }

    /// Back to phase 0.
    pub fn reset(&mut self) {
        self.s = 0.0;
        self.c = 1.0;
    }

    /// Advances one sample and returns the sine.
    #[inline]
    pub fn next(&mut self) -> f32 {
        self.s += self.k * self.c;
        self.c -= self.k * self.s;
        self.s
    }
}

/// Advances a phase in turns and wraps it into [0, 1).
#[inline]
pub fn advance(phase_turns: &mut f32, inc_turns: f32) {
    *phase_turns += inc_turns;
    if *phase_turns >= 1.0 {
        *phase_turns -= 1.0;
    }
}

/// Soft saturation: the cubic `x − 4x³/27`, flat at ±1 beyond |x| = 1.5. Odd, monotonic,
/// slope 1 at 0, only a third harmonic below clipping, and no division.
#[inline]
pub fn soft_clip(x: f32) -> f32 {
    let x = x.clamp(-1.5, 1.5);
    x * (1.0 - (4.0 / 27.0) * x * x)
}

/// Decibels to linear gain (not for per-sample use).
pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// Per-sample multiplier that decays a value by 1/e every `tau_s` seconds.
pub fn decay_coef(tau_s: f32, sample_rate_hz: f32) -> f32 {
    (-1.0 / (tau_s * sample_rate_hz).max(1.0)).exp()
}

/// Per-sample multiplier that decays by 60 dB in `t60_s` seconds.
pub fn t60_coef(t60_s: f32, sample_rate_hz: f32) -> f32 {
    decay_coef(t60_s / 6.907_755, sample_rate_hz)
}

/// One-pole low-pass coefficient for a cutoff, clamped below Nyquist.
pub fn one_pole_coef(cutoff_hz: f32, sample_rate_hz: f32) -> f32 {
    let c = cutoff_hz.clamp(1.0, 0.49 * sample_rate_hz);
    1.0 - (-2.0 * PI * c / sample_rate_hz).exp()
}

/// Seeded xorshift32 noise: deterministic, allocation-free, restored by `reset`.
#[derive(Debug, Clone, Copy)]
pub struct Rng {
    /// Generator state; never zero.
    state: u32,
}

impl Rng {
    /// A generator from a seed (0 is mapped to a fixed non-zero seed).
    pub const fn new(seed: u32) -> Rng {
        Rng {
            state: if seed == 0 { 0x9E37_79B9 } else { seed },
        }
    }

    /// The next 32 random bits.
    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state = x;
        x
    }

    /// Uniform in [0, 1).
    #[inline]
    pub fn unit(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform in [-1, 1).
    #[inline]
    pub fn bipolar(&mut self) -> f32 {
        self.unit() * 2.0 - 1.0
    }
}

/// One-pole low-pass: `y += a·(x − y)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OnePole {
    /// Filter state (last output).
    pub y: f32,
}

impl OnePole {
    /// Filters one sample with coefficient `a` (from [`one_pole_coef`]).
    #[inline]
    pub fn lp(&mut self, x: f32, a: f32) -> f32 {
        self.y = flush(self.y + a * (x - self.y));
        self.y
    }
}

/// Coefficients of a topology-preserving state-variable filter (Simper), stable under
/// per-sample modulation.
#[derive(Debug, Clone, Copy, Default)]
pub struct SvfCoefs {
    /// Damping, 1/Q.
    k: f32,
    /// Integrator gains derived from g = tan(π·fc/fs) and k.
    a1: f32,
    /// See `a1`.
    a2: f32,
    /// See `a1`.
    a3: f32,
}

impl SvfCoefs {
    /// Coefficients for a cutoff and Q (computes a `tan`: call off the per-sample path).
    pub fn new(cutoff_hz: f32, q: f32, sample_rate_hz: f32) -> SvfCoefs {
        let c = cutoff_hz.clamp(10.0, 0.45 * sample_rate_hz);
        SvfCoefs::from_g((PI * c / sample_rate_hz).tan(), q)
    }

    /// Coefficients from a pre-warped gain g = tan(π·fc/fs) (no transcendental call).
    #[inline]
    pub fn from_g(g: f32, q: f32) -> SvfCoefs {
        let k = 1.0 / q.max(0.1);
        let a1 = 1.0 / (1.0 + g * (g + k));
        let a2 = g * a1;
        SvfCoefs {
            k,
            a1,
            a2,
            a3: g * a2,
        }
    }
}

/// The three simultaneous outputs of one SVF step.
#[derive(Debug, Clone, Copy)]
pub struct SvfOut {
    /// Low-pass output.
    pub lp: f32,
    /// Band-pass output.
    pub bp: f32,
    /// High-pass output.
    pub hp: f32,
}

/// State of a state-variable filter (two integrators).
#[derive(Debug, Clone, Copy, Default)]
pub struct Svf {
    /// First integrator state.
    ic1: f32,
    /// Second integrator state.
    ic2: f32,
}

impl Svf {
    /// A filter at rest.
    pub const ZERO: Svf = Svf { ic1: 0.0, ic2: 0.0 };

    /// Filters one sample, returning low-, band- and high-pass at once.
    #[inline]
    pub fn tick(&mut self, x: f32, c: &SvfCoefs) -> SvfOut {
        let v3 = x - self.ic2;
        let v1 = c.a1 * self.ic1 + c.a2 * v3;
        let v2 = self.ic2 + c.a2 * self.ic1 + c.a3 * v3;
        self.ic1 = flush(2.0 * v1 - self.ic1);
        self.ic2 = flush(2.0 * v2 - self.ic2);
        SvfOut {
            lp: v2,
            bp: v1,
            hp: x - c.k * v1 - v2,
        }
    }

    /// Sets the state as if `x` had been the input forever (low-pass output = x), so a
    /// bypassed filter can be switched back in without a step.
    pub fn prime(&mut self, x: f32) {
        self.ic1 = 0.0;
        self.ic2 = x;
    }
}

/// Per-sample exponential smoother toward a target; snaps when within a hair so a settled
/// parameter costs nothing and can be compared for equality.
#[derive(Debug, Clone, Copy)]
pub struct Smoother {
    /// Current value.
    pub value: f32,
    /// Value being approached.
    pub target: f32,
    /// Fraction of the remaining distance covered per sample.
    coef: f32,
}

impl Smoother {
    /// A smoother at `value` with a time constant.
    pub fn new(value: f32, tau_s: f32, sample_rate_hz: f32) -> Smoother {
        Smoother {
            value,
            target: value,
            coef: 1.0 - decay_coef(tau_s, sample_rate_hz),
        }
    }

    /// Advances one sample and returns the new value.
    #[inline]
    pub fn next(&mut self) -> f32 {
        if self.value != self.target {
            let d = self.target - self.value;
            if d.abs() <= 1e-6 * self.target.abs() + 1e-9 {
                self.value = self.target;
            } else {
                self.value += d * self.coef;
            }
        }
        self.value
    }

    /// Whether the value has reached its target.
    #[inline]
    pub fn settled(&self) -> bool {
        self.value == self.target
    }

    /// Jumps to the target.
    pub fn snap(&mut self) {
        self.value = self.target;
    }
}

/// A power-of-two circular delay line with linear-interpolated reads.
#[derive(Debug, Clone)]
pub struct DelayLine {
    /// Samples; length is a power of two.
    buf: Vec<f32>,
    /// `buf.len() - 1`, for wrapping indices.
    mask: usize,
    /// Index of the most recently written sample.
    write: usize,
}

impl DelayLine {
    /// Allocates a line holding at least `max_delay_samples` past samples (not real-time safe).
    pub fn new(max_delay_samples: usize) -> DelayLine {
        let len = (max_delay_samples + 2).next_power_of_two();
        DelayLine {
            buf: vec![0.0; len],
            mask: len - 1,
            write: 0,
        }
    }

    /// Zeroes the contents (bounded by the allocated length).
    pub fn clear(&mut self) {
        self.buf.iter_mut().for_each(|s| *s = 0.0);
        self.write = 0;
    }

    /// Writes the newest sample.
    #[inline]
    pub fn push(&mut self, x: f32) {
        self.write = (self.write + 1) & self.mask;
        if let Some(s) = self.buf.get_mut(self.write) {
            *s = flush(x);
        }
    }

    /// The sample written `delay_samples` pushes ago (0 = the newest).
    #[inline]
    pub fn tap(&self, delay_samples: usize) -> f32 {
        let i = self.write.wrapping_sub(delay_samples) & self.mask;
        self.buf.get(i).copied().unwrap_or(0.0)
    }

    /// Linear-interpolated read `delay_samples` (≥ 0, fractional) behind the newest sample.
    #[inline]
    pub fn read(&self, delay_samples: f32) -> f32 {
        let d = delay_samples.clamp(0.0, self.mask as f32 - 1.0);
        let whole = d as usize;
        let frac = d - whole as f32;
        let a = self.tap(whole);
        let b = self.tap(whole + 1);
        a + (b - a) * frac
    }
}

/// Stage of an [`Env`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Silent; the voice is free.
    Idle,
    /// Linear rise to 1.
    Attack,
    /// Held: exponential decay toward `sustain` (an electric piano keeps fading while held).
    Hold,
    /// Exponential fall to silence after note-off.
    Release,
}

/// Attack / hold-decay / release envelope (the bass's; the FM voices count their stages in
/// `voice.rs`). Every step is bounded, so note-off never jumps.
#[derive(Debug, Clone, Copy)]
pub struct Env {
    /// Current gain, 0..=1.
    pub level: f32,
    /// Current stage.
    pub stage: Stage,
    /// Attack increment per sample.
    attack_inc: f32,
    /// Per-sample decay multiplier while held.
    hold_coef: f32,
    /// Level the hold decay approaches.
    sustain: f32,
    /// Per-sample decay multiplier after note-off.
    release_coef: f32,
}

/// An envelope in release below this level (−80 dB) has ended.
pub const END_LEVEL: f32 = 1e-4;

impl Env {
    /// An idle envelope.
    pub const fn idle() -> Env {
        Env {
            level: 0.0,
            stage: Stage::Idle,
            attack_inc: 1.0,
            hold_coef: 1.0,
            sustain: 0.0,
            release_coef: 0.0,
        }
    }

    /// Starts the attack from the current level (so a retrigger never jumps).
    pub fn trigger(
        &mut self,
        attack_s: f32,
        hold_tau_s: f32,
        sustain: f32,
        release_t60_s: f32,
        fs: f32,
    ) {
        self.stage = Stage::Attack;
        self.attack_inc = 1.0 / (attack_s * fs).max(1.0);
        self.hold_coef = decay_coef(hold_tau_s, fs);
        self.sustain = sustain;
        self.release_coef = t60_coef(release_t60_s, fs);
    }

    /// Note-off: decays from wherever it is.
    pub fn release(&mut self) {
        if matches!(self.stage, Stage::Attack | Stage::Hold) {
            self.stage = Stage::Release;
        }
    }

    /// Whether the note is still held (attack or hold stage).
    pub fn held(&self) -> bool {
        matches!(self.stage, Stage::Attack | Stage::Hold)
    }

    /// Advances one sample and returns the gain. An envelope that ends returns to `Idle`.
    #[inline]
    pub fn next(&mut self) -> f32 {
        match self.stage {
            Stage::Idle => {}
            Stage::Attack => {
                self.level += self.attack_inc;
                if self.level >= 1.0 {
                    self.level = 1.0;
                    self.stage = Stage::Hold;
                }
            }
            Stage::Hold => {
                self.level = self.sustain + (self.level - self.sustain) * self.hold_coef;
                if self.level < END_LEVEL {
                    self.stage = Stage::Release;
                }
            }
            Stage::Release => {
                self.level *= self.release_coef;
                if self.level < END_LEVEL {
                    self.level = 0.0;
                    self.stage = Stage::Idle;
                }
            }
        }
        self.level
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sine_matches_std_within_2e4() {
        for i in -4000..4000 {
            let p = i as f32 * 0.001_37;
            let err = (sin_turns(p) - (2.0 * PI * p).sin()).abs();
            assert!(err < 2e-4, "phase {p}: err {err}");
        }
    }

    #[test]
    fn lfo_keeps_its_amplitude_and_rate() {
        let mut lfo = Lfo::new(5.0, 48_000.0);
        let (mut peak, mut crossings, mut prev) = (0.0f32, 0, 0.0f32);
        for _ in 0..48_000 * 60 {
            let v = lfo.next();
            peak = peak.max(v.abs());
            crossings += usize::from(prev < 0.0 && v >= 0.0);
            prev = v;
        }
        assert!((peak - 1.0).abs() < 1e-3, "peak {peak}");
        assert!(
            (299..=301).contains(&crossings),
            "{crossings} cycles in 60 s"
        );
    }

    #[test]
    fn release_never_jumps() {
        let mut e = Env::idle();
        e.trigger(0.002, 1.0, 0.0, 0.3, 48_000.0);
        let mut prev = 0.0;
        for n in 0..48_000 {
            if n == 1_000 {
                e.release();
            }
            let v = e.next();
            assert!((v - prev).abs() <= 1.0 / 96.0 + 1e-6);
            prev = v;
        }
        assert_eq!(e.stage, Stage::Idle);
    }
}
