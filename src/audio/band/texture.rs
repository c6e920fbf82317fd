//! The lo-fi texture chain on the master bus, in order: tone (low-pass) → wobble (tape wow and
//! flutter) → drive (tape saturation) → crush (bits and sample rate) → dust (crackle and hiss)
//! → space (small room) → DC blocker → master level → safety limiter (peak < −1 dBFS).
//! Runs on the audio thread: every buffer is allocated in [`Texture::new`]; processing is per
//! sample with per-sample smoothing, so the output never depends on block sizes. A stage whose
//! amount is 0 passes its input through untouched (and costs a compare).

use std::f32::consts::PI;

use super::dsp::{
    db_to_gain, decay_coef, flush, one_pole_coef, soft_clip, DelayLine, Lfo, OnePole, Rng,
    Smoother, Svf, SvfCoefs,
};
use super::Sanitized;

/// Smoothing time constant of every knob, in seconds.
const KNOB_TAU_S: f32 = 0.02;
/// Tone: cutoff at tone 0 (the stage is bypassed there) and at tone 1, in Hz. In between the
/// cutoff moves exponentially: `20 kHz · (1/25)^tone` (tone 0.35 ≈ 6.5 kHz, 0.5 = 4 kHz).
const TONE_OPEN_HZ: f32 = 20_000.0;
/// See [`TONE_OPEN_HZ`].
const TONE_DARK_HZ: f32 = 800.0;
/// Wobble: wow rate, a slower drift, and flutter rate, in Hz.
const WOBBLE_HZ: [f32; 3] = [0.55, 0.23, 6.3];
/// Wobble at 1: wow delay swing and flutter delay swing, in seconds (≈ ±14 and ±8 cents of pitch).
const WOW_S: f32 = 0.0028;
/// See [`WOW_S`].
const FLUTTER_S: f32 = 0.000_12;
/// Dust: clicks per second at dust 0+ and added at dust 1.
const CRACKLE_RATE_HZ: (f32, f32) = (3.0, 40.0);
/// Dust: largest click and hiss amplitude at dust 1.
const CRACKLE_AMP: f32 = 0.3;
/// See [`CRACKLE_AMP`].
const HISS_AMP: f32 = 0.02;
/// Dust fades in and out over this long when the transport starts and stops, in seconds.
const DUST_FADE_S: f32 = 0.3;
/// Crush at 1: bit depth and sample rate (bits go 16 → 6, rate fs → 8 kHz, exponentially).
const CRUSH_BITS: (f32, f32) = (16.0, 6.0);
/// See [`CRUSH_BITS`].
const CRUSH_MIN_HZ: f32 = 8_000.0;
/// Space: the four feedback-delay-network lines and the two input diffusers, in seconds.
const ROOM_LINES_S: [f32; 4] = [0.0193, 0.0239, 0.0291, 0.0337];
/// See [`ROOM_LINES_S`]; with allpass gain [`DIFFUSE_GAIN`].
const DIFFUSER_S: [f32; 2] = [0.004_77, 0.001_63];
/// Allpass gain of the diffusers.
const DIFFUSE_GAIN: f32 = 0.6;
/// Room decay (RT60), in seconds, and damping low-pass in the loop, in Hz.
const ROOM_RT60_S: f32 = 0.9;
/// See [`ROOM_RT60_S`].
const ROOM_DAMP_HZ: f32 = 4_500.0;
/// Reverb send high-pass (keeps the bass out of the room), in Hz.
const ROOM_HP_HZ: f32 = 220.0;
/// Level of the room at space 1.
const ROOM_WET: f32 = 0.55;
/// Below this (−140 dB) a reverb line counts as silent.
const ROOM_FLOOR: f32 = 1e-7;
/// DC blocker corner, in Hz.
const DC_HZ: f32 = 5.0;
/// Limiter: gain reduction starts at −3 dBFS; a soft ceiling above it never reaches −1 dBFS.
const LIMIT_THRESHOLD: f32 = 0.707_9;
/// See [`LIMIT_THRESHOLD`]: −1 dBFS.
const CEILING: f32 = 0.891_25;
/// Limiter attack and release time constants, in seconds.
const LIMIT_ATTACK_S: f32 = 0.001;
/// See [`LIMIT_ATTACK_S`].
const LIMIT_RELEASE_S: f32 = 0.12;

/// Stereo sample pair.
type Frame = (f32, f32);

/// Tone: a 2-pole low-pass whose pre-warped gain g is smoothed per sample.
#[derive(Debug, Clone)]
struct Tone {
    /// Smoothed g = tan(π·fc/fs).
    g: Smoother,
    /// g the coefficients were last computed for.
    coef_g: f32,
    /// Coefficients for `coef_g`.
    coefs: SvfCoefs,
    /// Filters, left and right.
    svf: [Svf; 2],
    /// Whether the tone knob is at 0 (bypass once g has settled).
    open: bool,
    /// Whether the filter ran on the previous sample (else it is primed before use).
    running: bool,
}

impl Tone {
    /// One sample.
    #[inline]
    fn tick(&mut self, x: Frame) -> Frame {
        let g = self.g.next();
        if self.open && self.g.settled() {
            self.running = false;
            return x;
        }
        if !self.running {
            self.svf[0].prime(x.0);
            self.svf[1].prime(x.1);
            self.running = true;
        }
        if g != self.coef_g {
            self.coef_g = g;
            self.coefs = SvfCoefs::from_g(g, 0.707);
        }
        (
            self.svf[0].tick(x.0, &self.coefs).lp,
            self.svf[1].tick(x.1, &self.coefs).lp,
        )
    }
}

/// Wobble: both channels through one modulated short delay, like tape past a wobbly capstan.
#[derive(Debug, Clone)]
struct Wobble {
    /// Smoothed depth, 0..=1.
    depth: Smoother,
    /// LFOs: wow, drift, flutter.
    lfo: [Lfo; 3],
    /// Delay lines, left and right.
    line: [DelayLine; 2],
    /// Wow and flutter swing at depth 1, in samples.
    swing_samples: (f32, f32),
}

impl Wobble {
    /// One sample. At depth 0 the delay is 0, so output = input (no latency).
    #[inline]
    fn tick(&mut self, x: Frame) -> Frame {
        self.line[0].push(x.0);
        self.line[1].push(x.1);
        let d = self.depth.next();
        let [wow, drift, flutter] = &mut self.lfo;
        let (wow, drift, flutter) = (wow.next(), drift.next(), flutter.next());
        if d == 0.0 {
            return x;
        }
        let wow = 1.0 + 0.7 * wow + 0.3 * drift;
        let flutter = 1.0 + flutter;
        let delay = d * (self.swing_samples.0 * wow + self.swing_samples.1 * flutter);
        (self.line[0].read(delay), self.line[1].read(delay))
    }
}

/// Drive: asymmetric soft saturation (tape), crossfaded in and level-compensated.
#[derive(Debug, Clone, Copy)]
struct Drive {
    /// Smoothed amount, 0..=1.
    amount: Smoother,
    /// Amount the curve below was computed for.
    curve_for: f32,
    /// Pre-gain, bias, bias offset, output compensation and wet mix for `curve_for`.
    curve: [f32; 5],
}

impl Drive {
    /// Drive off.
    fn new(fs: f32) -> Drive {
        Drive {
            amount: knob(0.0, fs),
            curve_for: -1.0,
            curve: [1.0, 0.0, 0.0, 1.0, 0.0],
        }
    }

    /// One sample.
    #[inline]
    fn tick(&mut self, x: Frame) -> Frame {
        let a = self.amount.next();
        if a == 0.0 {
            return x;
        }
        if a != self.curve_for {
            // Compensation slightly less than 1/pre: quiet passages gain a little (+1.7 dB at
            // 1), peaks are squashed, so loudness stays within ~2 dB over the knob's range.
            let pre = 1.0 + 6.0 * a;
            let bias = 0.15 * a;
            self.curve = [
                pre,
                bias,
                soft_clip(bias),
                pre.powf(-0.9),
                (3.0 * a).min(1.0),
            ];
            self.curve_for = a;
        }
        let [pre, bias, off, comp, mix] = self.curve;
        let sat = |v: f32| v + mix * ((soft_clip(pre * v + bias) - off) * comp - v);
        (sat(x.0), sat(x.1))
    }
}

/// Crush: sample-and-hold at a reduced rate, then a mid-tread quantiser.
#[derive(Debug, Clone, Copy)]
struct Crush {
    /// Whether the crush knob is at 0 (bypass once the smoothers settle).
    off: bool,
    /// Smoothed quantiser step (full scale = ±1).
    step: Smoother,
    /// Smoothed hold increment (new rate / fs, ≤ 1).
    hold_inc: Smoother,
    /// Hold phase; a new sample is taken when it passes 1.
    phase: f32,
    /// The held output.
    held: Frame,
}

impl Crush {
    /// One sample.
    #[inline]
    fn tick(&mut self, x: Frame) -> Frame {
        let step = self.step.next();
        let inc = self.hold_inc.next();
        if self.off && self.step.settled() && self.hold_inc.settled() {
            self.phase = 1.0;
            return x;
        }
        self.phase += inc;
        if self.phase >= 1.0 {
            self.phase -= 1.0;
            let q = |v: f32| {
                let t = (v / step).clamp(-1e6, 1e6);
                (t + 0.5f32.copysign(t)) as i32 as f32 * step
            };
            self.held = (q(x.0), q(x.1));
        }
        self.held
    }
}

/// Dust: seeded vinyl crackle and hiss, gated by the transport.
#[derive(Debug, Clone, Copy)]
struct Dust {
    /// Smoothed dust amount, 0..=1.
    amount: Smoother,
    /// Transport gate, ramping linearly between 0 (stopped) and 1 (playing).
    gate: f32,
    /// Gate ramp per sample.
    gate_inc: f32,
    /// Whether the transport plays.
    playing: bool,
    /// Noise generator (seed restored by reset).
    rng: Rng,
    /// Hiss colouring filters, left and right.
    hiss_lp: [OnePole; 2],
    /// Hiss filter coefficient.
    hiss_coef: f32,
    /// Ringing click states, left and right.
    click: Frame,
    /// Per-sample click decay.
    click_decay: f32,
    /// 1 / sample rate, for the click probability.
    inv_fs: f32,
}

/// Seed of the dust generator.
const DUST_SEED: u32 = 0x5EED_D057;

impl Dust {
    /// One sample: adds dust to `x`.
    #[inline]
    fn tick(&mut self, x: Frame) -> Frame {
        let d = self.amount.next();
        let target = if self.playing { 1.0 } else { 0.0 };
        self.gate = if self.gate < target {
            (self.gate + self.gate_inc).min(1.0)
        } else {
            (self.gate - self.gate_inc).max(0.0)
        };
        let g = d * self.gate;
        if g == 0.0 && self.click == (0.0, 0.0) {
            return x;
        }
        let hiss = HISS_AMP * d * d * self.gate;
        let h = (
            self.hiss_lp[0].lp(self.rng.bipolar(), self.hiss_coef),
            self.hiss_lp[1].lp(self.rng.bipolar(), self.hiss_coef),
        );
        let rate_hz = if g > 0.0 {
            CRACKLE_RATE_HZ.0 + CRACKLE_RATE_HZ.1 * d
        } else {
            0.0
        };
        if self.rng.unit() < rate_hz * self.inv_fs {
            let a = self.rng.unit();
            let amp =
                CRACKLE_AMP * g * a * a * a * a * if self.rng.unit() < 0.5 { -1.0 } else { 1.0 };
            let bal = self.rng.unit();
            self.click.0 += amp * (1.0 - bal);
            self.click.1 += amp * bal;
        }
        let out = (
            x.0 + hiss * h.0 + self.click.0,
            x.1 + hiss * h.1 + self.click.1,
        );
        self.click = (
            flush(self.click.0 * self.click_decay),
            flush(self.click.1 * self.click_decay),
        );
        out
    }
}

/// A Schroeder allpass on a delay line.
#[derive(Debug, Clone)]
struct Allpass {
    /// The line.
    line: DelayLine,
    /// Delay in samples (≥ 1).
    len: usize,
}

impl Allpass {
    /// One sample.
    #[inline]
    fn tick(&mut self, x: f32) -> f32 {
        let d = self.line.tap(self.len - 1);
        let w = x + DIFFUSE_GAIN * d;
        self.line.push(w);
        d - DIFFUSE_GAIN * w
    }
}

/// Space: a small room, a 4-line feedback delay network with Hadamard mixing and damping.
#[derive(Debug, Clone)]
struct Space {
    /// Smoothed send, 0..=1.
    send: Smoother,
    /// Send high-pass state.
    hp: OnePole,
    /// Send high-pass coefficient.
    hp_coef: f32,
    /// Input diffusers.
    diffuse: [Allpass; 2],
    /// Network lines.
    lines: [DelayLine; 4],
    /// Network line lengths, in samples.
    lens: [usize; 4],
    /// Per-line feedback gain for the RT60.
    fb: [f32; 4],
    /// Damping filters.
    damp: [OnePole; 4],
    /// Damping coefficient.
    damp_coef: f32,
    /// Consecutive samples with silent lines and no input.
    quiet_samples: usize,
    /// Largest line output of the last sample (for tail detection).
    tail_peak: f32,
}

impl Space {
    /// One sample. Bypassed once the send is 0 and the lines have rung out.
    #[inline]
    fn tick(&mut self, x: Frame) -> Frame {
        let s = self.send.next();
        let max_len = self.lens[3];
        if s == 0.0 && self.quiet_samples > max_len {
            self.tail_peak = 0.0;
            return x;
        }
        let mono = 0.5 * (x.0 + x.1) * s;
        let bright = mono - self.hp.lp(mono, self.hp_coef);
        let input = self.diffuse.iter_mut().fold(bright, |x, ap| ap.tick(x));
        let mut o = [0.0f32; 4];
        for (((o, line), len), damp) in o
            .iter_mut()
            .zip(&self.lines)
            .zip(self.lens)
            .zip(&mut self.damp)
        {
            *o = damp.lp(line.tap(len - 1), self.damp_coef);
        }
        let h = [
            o[0] + o[1] + o[2] + o[3],
            o[0] - o[1] + o[2] - o[3],
            o[0] + o[1] - o[2] - o[3],
            o[0] - o[1] - o[2] + o[3],
        ];
        let signs = [1.0, -1.0, 1.0, -1.0];
        for (((line, h), fb), sign) in self.lines.iter_mut().zip(h).zip(self.fb).zip(signs) {
            line.push(sign * input + 0.5 * h * fb);
        }
        self.tail_peak = o.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let loud = self.tail_peak > ROOM_FLOOR || mono.abs() > ROOM_FLOOR;
        self.quiet_samples = if loud {
            0
        } else {
            self.quiet_samples.saturating_add(1)
        };
        let wet = (
            ROOM_WET * (o[0] + 0.6 * o[1] - 0.6 * o[2]),
            ROOM_WET * (o[3] + 0.6 * o[2] - 0.6 * o[1]),
        );
        let dry = 1.0 - 0.25 * s;
        (x.0 * dry + wet.0, x.1 * dry + wet.1)
    }

    /// Zeroes every line.
    fn clear(&mut self) {
        self.lines.iter_mut().for_each(DelayLine::clear);
        self.diffuse.iter_mut().for_each(|a| a.line.clear());
        self.damp = [OnePole::default(); 4];
        self.hp = OnePole::default();
        self.quiet_samples = usize::MAX;
        self.tail_peak = 0.0;
    }
}

/// The safety limiter: a peak envelope drives a smooth gain, and a soft ceiling above
/// −3 dBFS bends every sample below −1 dBFS.
#[derive(Debug, Clone, Copy)]
struct Limiter {
    /// Peak envelope.
    env: f32,
    /// Per-sample envelope release multiplier.
    env_coef: f32,
    /// Current gain.
    gain: f32,
    /// Gain attack smoothing fraction per sample.
    attack: f32,
}

impl Limiter {
    /// One sample.
    #[inline]
    fn tick(&mut self, x: Frame) -> Frame {
        let peak = x.0.abs().max(x.1.abs());
        self.env = flush(peak.max(self.env * self.env_coef));
        let target = if self.env > LIMIT_THRESHOLD {
            LIMIT_THRESHOLD / self.env
        } else {
            1.0
        };
        self.gain += (target - self.gain) * if target < self.gain { self.attack } else { 1.0 };
        (ceiling(x.0 * self.gain), ceiling(x.1 * self.gain))
    }
}

/// Soft ceiling: identity up to the threshold, then bends asymptotically toward [`CEILING`];
/// NaN (which cannot arise from sanitised input, but would otherwise be sticky) becomes 0.
#[inline]
fn ceiling(x: f32) -> f32 {
    let a = x.abs();
    if a <= LIMIT_THRESHOLD {
        return x;
    }
    if a.is_nan() {
        return 0.0;
    }
    let room = CEILING - LIMIT_THRESHOLD;
    let t = ((a - LIMIT_THRESHOLD) / room).min(1e6);
    (LIMIT_THRESHOLD + room * t / (1.0 + t)).copysign(x)
}

/// The whole texture chain.
#[derive(Debug, Clone)]
pub struct Texture {
    /// Tone stage.
    tone: Tone,
    /// Wobble stage.
    wobble: Wobble,
    /// Drive stage.
    drive: Drive,
    /// Crush stage.
    crush: Crush,
    /// Dust stage.
    dust: Dust,
    /// Space stage.
    space: Space,
    /// DC blocker states (last input, last output), left and right.
    dc: [Frame; 2],
    /// DC blocker pole.
    dc_pole: f32,
    /// Smoothed master gain.
    master: Smoother,
    /// Safety limiter.
    limiter: Limiter,
    /// Sample rate in Hz.
    fs: f32,
}

impl Texture {
    /// Allocates every buffer for `fs` (not real-time safe).
    pub fn new(fs: f32) -> Texture {
        let samples = |s: f32| ((s * fs) as usize).max(1);
        let lens = ROOM_LINES_S.map(samples);
        let swing_max = samples(2.0 * (WOW_S + FLUTTER_S)) + 4;
        let mut t = Texture {
            tone: Tone::new(fs),
            wobble: Wobble {
                depth: knob(0.0, fs),
                lfo: WOBBLE_HZ.map(|hz| Lfo::new(hz, fs)),
                line: [DelayLine::new(swing_max), DelayLine::new(swing_max)],
                swing_samples: (WOW_S * fs, FLUTTER_S * fs),
            },
            drive: Drive::new(fs),
            crush: Crush::new(fs),
            dust: Dust::new(fs),
            space: Space {
                send: knob(0.0, fs),
                hp: OnePole::default(),
                hp_coef: one_pole_coef(ROOM_HP_HZ, fs),
                diffuse: DIFFUSER_S.map(|s| Allpass {
                    line: DelayLine::new(samples(s)),
                    len: samples(s),
                }),
                lines: lens.map(DelayLine::new),
                lens,
                fb: lens.map(|l| 10f32.powf(-3.0 * l as f32 / (fs * ROOM_RT60_S))),
                damp: [OnePole::default(); 4],
                damp_coef: one_pole_coef(ROOM_DAMP_HZ, fs),
                quiet_samples: usize::MAX,
                tail_peak: 0.0,
            },
            dc: [(0.0, 0.0); 2],
            dc_pole: 1.0 - 2.0 * PI * DC_HZ / fs,
            master: knob(1.0, fs),
            limiter: Limiter::new(fs),
            fs,
        };
        t.reset();
        t
    }

    /// Back to the state of `new`: clears every line (bounded by their allocated lengths),
    /// rewinds LFOs and restores the dust seed. Real-time safe (no allocation).
    pub fn reset(&mut self) {
        let fs = self.fs;
        self.tone = Tone::new(fs);
        self.wobble.depth = knob(0.0, fs);
        self.wobble.lfo.iter_mut().for_each(Lfo::reset);
        self.wobble.line.iter_mut().for_each(DelayLine::clear);
        self.drive = Drive::new(fs);
        self.crush = Crush::new(fs);
        self.dust = Dust::new(fs);
        self.space.send = knob(0.0, fs);
        self.space.clear();
        self.dc = [(0.0, 0.0); 2];
        self.master = knob(1.0, fs);
        self.limiter = Limiter::new(fs);
    }

    /// Sets every stage's target from sanitised settings (once per block; the transcendental
    /// maths happens here, the per-sample path only smooths).
    pub fn set_targets(&mut self, s: &Sanitized) {
        let fs = self.fs;
        let cutoff_hz = TONE_OPEN_HZ * (TONE_DARK_HZ / TONE_OPEN_HZ).powf(s.tone);
        self.tone.open = s.tone <= 0.0;
        self.tone.g.target = (PI * cutoff_hz.min(0.45 * fs) / fs).tan();
        self.wobble.depth.target = s.wobble;
        self.drive.amount.target = s.drive;
        let bits = CRUSH_BITS.0 + (CRUSH_BITS.1 - CRUSH_BITS.0) * s.crush;
        self.crush.off = s.crush <= 0.0;
        self.crush.step.target = 2f32.powf(1.0 - bits);
        self.crush.hold_inc.target = (CRUSH_MIN_HZ / fs).powf(s.crush).min(1.0);
        self.dust.amount.target = s.dust;
        self.space.send.target = s.space;
        self.master.target = db_to_gain(s.master_db);
    }

    /// Jumps every smoother to its target (first block after a reset, and while idle).
    pub fn snap(&mut self) {
        self.tone.g.snap();
        self.wobble.depth.snap();
        self.drive.amount.snap();
        self.crush.step.snap();
        self.crush.hold_inc.snap();
        self.dust.amount.snap();
        self.space.send.snap();
        self.master.snap();
    }

    /// Tells the dust whether the transport plays.
    pub fn set_playing(&mut self, playing: bool) {
        self.dust.playing = playing;
    }

    /// Whether dust is, or is about to be, audible.
    pub fn dust_live(&self) -> bool {
        let amount = self.dust.amount.value.max(self.dust.amount.target);
        (self.dust.playing || self.dust.gate > 0.0) && amount > 0.0 || self.dust.click != (0.0, 0.0)
    }

    /// Processes the mixed instruments in place. Returns the index of the last sample whose
    /// level before the master gain (or inside the room) exceeded `floor`, for tail detection.
    pub fn process(&mut self, l: &mut [f32], r: &mut [f32], floor: f32) -> Option<usize> {
        let mut last_loud = None;
        for (n, (a, b)) in l.iter_mut().zip(r.iter_mut()).enumerate() {
            let x = self.tone.tick((*a, *b));
            let x = self.wobble.tick(x);
            let x = self.drive.tick(x);
            let x = self.crush.tick(x);
            let x = self.dust.tick(x);
            let x = self.space.tick(x);
            let x = self.dc_block(x);
            if x.0.abs().max(x.1.abs()).max(self.space.tail_peak) > floor {
                last_loud = Some(n);
            }
            let m = self.master.next();
            let y = self.limiter.tick((x.0 * m, x.1 * m));
            *a = y.0;
            *b = y.1;
        }
        last_loud
    }

    /// One-pole DC blocker, `y = x − x₁ + p·y₁`.
    #[inline]
    fn dc_block(&mut self, x: Frame) -> Frame {
        let mut y = [0.0; 2];
        for ((state, x), y) in self.dc.iter_mut().zip([x.0, x.1]).zip(&mut y) {
            *y = flush(x - state.0 + self.dc_pole * state.1);
            *state = (x, *y);
        }
        (y[0], y[1])
    }
}

/// A knob smoother at `value`.
fn knob(value: f32, fs: f32) -> Smoother {
    Smoother::new(value, KNOB_TAU_S, fs)
}

impl Tone {
    /// Open (bypassed) tone.
    fn new(fs: f32) -> Tone {
        Tone {
            g: knob(0.0, fs),
            coef_g: -1.0,
            coefs: SvfCoefs::default(),
            svf: [Svf::default(); 2],
            open: true,
            running: false,
        }
    }
}

impl Crush {
    /// Crush off.
    fn new(fs: f32) -> Crush {
        Crush {
            off: true,
            step: knob(1.0, fs),
            hold_inc: knob(1.0, fs),
            phase: 1.0,
            held: (0.0, 0.0),
        }
    }
}

impl Dust {
    /// Silent dust with the seed restored.
    fn new(fs: f32) -> Dust {
        Dust {
            amount: knob(0.0, fs),
            gate: 0.0,
            gate_inc: 1.0 / (DUST_FADE_S * fs),
            playing: false,
            rng: Rng::new(DUST_SEED),
            hiss_lp: [OnePole::default(); 2],
            hiss_coef: one_pole_coef(6_000.0, fs),
            click: (0.0, 0.0),
            click_decay: decay_coef(0.000_12, fs),
            inv_fs: 1.0 / fs,
        }
    }
}

impl Limiter {
    /// A limiter at unity gain.
    fn new(fs: f32) -> Limiter {
        Limiter {
            env: 0.0,
            env_coef: decay_coef(LIMIT_RELEASE_S, fs),
            gain: 1.0,
            attack: 1.0 - decay_coef(LIMIT_ATTACK_S, fs),
        }
    }
}
