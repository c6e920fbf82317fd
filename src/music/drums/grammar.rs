//! The groove grammar: seed + Energy → [`Groove`]. Rule-based: a fixed set of boom-bap rules
//! whose probabilities Energy sets. Runs on the worker thread (allocates the groove's bars).
//!
//! # The grammar
//!
//! Steps are sixteenths 0–15 (4 = beat 2, 8 = beat 3, 12 = beat 4; even steps are eighths).
//! `E` is Energy in 0..=1; `ramp(E, a, b)` is `(E − a)/(b − a)` clamped to 0..=1. Every bar is
//! first the same **base bar**:
//!
//! * **Kick** — one of 16 base patterns ([`KICK_PATTERNS`], chosen by the seed): `X`/`x` kicks
//!   always (the kick on 1 in every pattern), `o` kicks from `E ≥ 0.05 + 0.35u`; plus extra
//!   kicks on any step with `u < KICK_EXTRA_WEIGHT[step] × ramp(E, 0.2, 1)` (pickups, double
//!   kicks; never on the backbeat steps 4 and 12).
//! * **Backbeat** — the seed's backbeat sound (snare 72 %, clap 28 %) accented on steps 4 and 12
//!   in every bar at every Energy (fills aside); the other of the two layered on them when
//!   `u < 0.45 × ramp(E, 0.45, 0.9)`.
//! * **Ghost snares** — on any step with `u < GHOST_WEIGHT[step] × ramp(E, 0.3, 1)`, most
//!   likely on the "a"s of 2 and 4 (steps 7, 15) and the "e" of 3 (step 9).
//! * **Side stick** — for 22 % of seeds, a rim click on one seeded step (10, 7, 14 or 3) from
//!   `E ≥ 0.15 + 0.5u` (no ghost snare on that step).
//! * **Timekeeper** — closed hat (78 %), ride (12 %) or shaker (10 %) by the seed, densifying
//!   with Energy: beats 2 and 4 always; beats 1 and 3 from `E ≥ max(0, 0.4u − 0.1)` (a
//!   quarter of the grooves play all four at Energy 0, the rest tick only with the backbeat
//!   until at most Energy 0.3); the off-beat eighths from `E ≥ θ8 = 0.12 + 0.23u`;
//!   each sixteenth (odd step) `s` from `E ≥ θ16(s) = 0.48 + 0.2u + 0.3u_s` (< 1, so Energy 1
//!   plays all sixteenths). Quarters and eighths are `x`, sixteenths `g`. The seed's **open
//!   slot** (step 15 45 %, 7 20 %, 11 20 %, 3 15 %) never has the timekeeper: it is the open
//!   hat's.
//! * **Shaker layer** — for 30 % of non-shaker seeds, ghost shaker on the off-beat eighths
//!   from `E ≥ 0.55 + 0.3u`. **Pedal hat** — ride grooves add the pedal "chick" on 2 and 4 from
//!   `E ≥ 0.1 + 0.4u`.
//!
//! Then per bar (1-based numbers; "half" = bar 4 of a 5–8-bar groove, "end" = the last bar of a
//! 2–8-bar groove, so bars 4 and 8 vary in an 8-bar phrase and bar 4 in a 4-bar one):
//!
//! * **Open hat** at the open slot from `E ≥` the lowest threshold of the classes the bar is
//!   in: every bar `0.7 + 0.3u`, even bars `0.45 + 0.3u`, half/end bars `0.2 + 0.3u`, all
//!   capped at `θ16(slot)` — so it opens first at the turnarounds, then every other bar, then
//!   every bar, and at the latest when the sixteenths arrive.
//! * **Turnaround** (half and end bars, each with its own draws and [`TurnRules`]): drop the
//!   pattern's last core kick (half 35 %, end 20 %, whatever the Energy); a pickup kick on step
//!   13, 14 or 15; a ghost drag on 14–15; a backbeat pickup on 15 — each from its own
//!   energy threshold.
//! * **Fill** — the last bar of a 2–8-bar groove when `u < ramp(E, 0.6, 0.95)`: from step 12
//!   (one beat), or step 8 when `u < 0.2 + 0.5 × ramp(E, 0.75, 1)`, hats and snares are cleared
//!   and one of four figures written: a snare sixteenth run (35 %), a kick–snare trade (25 %),
//!   flams as ghost + accent a sixteenth apart (25 %) or a break (the bar stops on an open hat,
//!   then kick and snare pick up, 15 %); all but the break end with an open hat on step 14
//!   60 % of the time.
//!
//! **Monotone in Energy:** every rule is "hit when a uniform (or Energy) passes an
//! energy-dependent threshold", and every uniform is drawn whatever the Energy, so for one seed
//! raising Energy only adds hits, and a hit's level never falls (a ghost on step 15 may become
//! a backbeat pickup). The exception is the fill, which replaces the end of its bar, and whose
//! presence and length Energy sets.
//!
//! # Draw order
//!
//! One ChaCha8 stream: `ChaCha8Rng::seed_from_u64(seed)`, then `set_stream(GROOVE_STREAM)`.
//! Each uniform `u` is the top 53 bits of one `next_u64()` divided by 2⁵³ (in [0, 1); never a
//! float sampler of `rand`, so the stream cannot change with a `rand` upgrade). 96 uniforms are
//! drawn for every seed, whatever the Energy and bar count, in this order:
//!
//! | # | draw | use |
//! |---|---|---|
//! | 0 | kick pattern | `⌊16u⌋` into [`KICK_PATTERNS`] |
//! | 1 | kick optional | `o` kicks from `E ≥ 0.05 + 0.35u` |
//! | 2 | backbeat | snare if `u < 0.72`, else clap |
//! | 3 | layer | the other of snare/clap on 4 and 12 if `u < 0.45 × ramp(E, 0.45, 0.9)` |
//! | 4 | timekeeper | closed hat `u < 0.78`, ride `u < 0.9`, else shaker |
//! | 5 | quarters | beats 1 and 3 of the timekeeper from `E ≥ max(0, 0.4u − 0.1)` |
//! | 6 | eighths | `θ8 = 0.12 + 0.23u` |
//! | 7 | sixteenths | `θ16 base = 0.48 + 0.2u` |
//! | 8 | open slot | step 15 `u < 0.45`, 7 `u < 0.65`, 11 `u < 0.85`, else 3 |
//! | 9–11 | open hat: turnaround, even, every bar | `0.2 + 0.3u`, `0.45 + 0.3u`, `0.7 + 0.3u` |
//! | 12 | shaker layer | on if `u < 0.3` (and the timekeeper is not the shaker) |
//! | 13 | shaker layer from | `E ≥ 0.55 + 0.3u` |
//! | 14 | pedal hat from | `E ≥ 0.1 + 0.4u` (ride grooves) |
//! | 15 | side stick | on if `u < 0.22` |
//! | 16 | side stick step | `[10, 7, 14, 3][⌊4u⌋]` |
//! | 17 | side stick from | `E ≥ 0.15 + 0.5u` |
//! | 18–33 | extra kick, steps 0–15 | `u < KICK_EXTRA_WEIGHT[step] × ramp(E, 0.2, 1)` |
//! | 34–49 | ghost snare, steps 0–15 | `u < GHOST_WEIGHT[step] × ramp(E, 0.3, 1)` |
//! | 50–65 | sixteenth hat, steps 0–15 | `θ16(s) = θ16 base + 0.3u` (odd steps used) |
//! | 66–70 | half turnaround | pickup step, pickup from, drop, drag from, backbeat pickup from |
//! | 71–75 | end turnaround | the same five |
//! | 76 | fill | on if `u < ramp(E, 0.6, 0.95)` |
//! | 77 | fill figure | run `u < 0.35`, trade `u < 0.6`, flams `u < 0.85`, else break |
//! | 78 | fill length | from step 8 if `u < 0.2 + 0.5 × ramp(E, 0.75, 1)`, else 12 |
//! | 79 | fill open hat | on step 14 if `u < 0.6` |
//! | 80–95 | fill steps 0–15 | which optional steps of the figure play |
//!
//! Draws that a groove does not use (a 4-bar groove's half turnaround, the sixteenth draws of
//! even steps) are still drawn, so changing any knob never shifts the others. Changing this
//! table changes what every saved seed plays.

use super::{DrumBar, DrumSound, Groove, Level, MAX_BARS, STEPS_PER_BAR};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The ChaCha8 stream of the groove seed the grammar draws from ("DRUM"); differs from the
/// decoder's stream ("LOFI") and from the humanize streams 0–3, so no two uses of one seed
/// share numbers.
pub const GROOVE_STREAM: u64 = 0x4452_554D;

/// The base kick patterns: `X` accent and `x` normal kicks always play, `o` kicks from a seeded
/// Energy. Every pattern kicks on 1, none on the backbeat (steps 4 and 12).
pub const KICK_PATTERNS: [&str; 16] = [
    "X.........x.....", // 1, 3-and: the boom-bap default
    "X.......x.o.....", // 1, 3 (, 3-and)
    "X..o......x.....", // 1 (, 1-a), 3-and
    "X......o..x.....", // 1 (, 2-a), 3-and
    "X.o.......x.....", // 1 (, 1-and), 3-and
    "X.........x..o..", // 1, 3-and (, 4-e)
    "X.......x......o", // 1, 3 (, 4-a)
    "X......x.o......", // 1, 2-a (, 3-e)
    "X.....o...x.....", // 1 (, 2-and), 3-and
    "X........x.o....", // 1, 3-e (, 3-a)
    "X.........xo....", // 1, 3-and (, 3-a)
    "X..........x....", // 1, 3-a
    "X.......x..o....", // 1, 3 (, 3-a)
    "X.....x...o.....", // 1, 2-and (, 3-and)
    "X..x......x.....", // 1, 1-a, 3-and
    "X.o....x..x.....", // 1 (, 1-and), 2-a, 3-and
];

/// Chance of an extra kick per step at Energy 1 (scaled by `ramp(E, 0.2, 1)`); 0 on 1 (always
/// a kick) and on the backbeat.
pub const KICK_EXTRA_WEIGHT: [f64; STEPS_PER_BAR] = [
    0.0, 0.03, 0.08, 0.15, 0.0, 0.03, 0.12, 0.18, 0.12, 0.16, 0.18, 0.18, 0.0, 0.1, 0.14, 0.15,
];

/// Chance of a ghost snare per step at Energy 1 (scaled by `ramp(E, 0.3, 1)`); 0 on 1 and on
/// the backbeat.
pub const GHOST_WEIGHT: [f64; STEPS_PER_BAR] = [
    0.0, 0.06, 0.1, 0.22, 0.0, 0.15, 0.2, 0.45, 0.08, 0.4, 0.18, 0.28, 0.0, 0.22, 0.2, 0.45,
];

/// The backbeat steps (beats 2 and 4).
const BACKBEAT_STEPS: [usize; 2] = [4, 12];
/// The off-beat eighths.
const OFFBEAT_STEPS: [usize; 4] = [2, 6, 10, 14];

/// Energy thresholds of one kind of turnaround bar: each element plays from
/// `E ≥ from + spread × u`.
pub struct TurnRules {
    /// Pickup kick: from, spread.
    pub pickup: (f64, f64),
    /// Chance of dropping the pattern's last core kick (Energy-independent).
    pub drop: f64,
    /// Ghost drag on steps 14–15: from, spread.
    pub drag: (f64, f64),
    /// Backbeat pickup on step 15: from, spread.
    pub backbeat_pickup: (f64, f64),
}

/// Bar 4 of a 5–8-bar groove: a lighter variation.
pub const HALF_TURN: TurnRules = TurnRules {
    pickup: (0.15, 0.5),
    drop: 0.35,
    drag: (0.35, 0.5),
    backbeat_pickup: (0.6, 0.5),
};

/// The last bar (bar 8 of an 8-bar groove): leads back to the top. Its pickup kick starts below
/// Energy 0, so even the sleepiest grooves turn around (42 % of seeds at Energy 0, all by 0.35).
pub const END_TURN: TurnRules = TurnRules {
    pickup: (-0.25, 0.6),
    drop: 0.2,
    drag: (0.2, 0.4),
    backbeat_pickup: (0.35, 0.45),
};

/// What the grammar chose for a seed, besides the groove itself (for tests, the editor's
/// tooltip and the evaluation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrooveInfo {
    /// Index into [`KICK_PATTERNS`].
    pub kick_pattern: usize,
    /// The backbeat sound: snare or clap.
    pub backbeat: DrumSound,
    /// The timekeeper: closed hat, ride or shaker.
    pub timekeeper: DrumSound,
    /// The open hat's step.
    pub open_step: usize,
    /// The bar (0-based) that holds a fill, if any: always the last bar.
    pub fill_bar: Option<usize>,
    /// The step the fill starts on (8 or 12), if there is a fill.
    pub fill_start: Option<usize>,
}

/// Writes the groove for `seed` at `energy` (0..=1; NaN = 0.5), `bars` in 1..=8 (clamped).
pub fn write_groove(seed: u64, energy: f32, bars: u32) -> Groove {
    write_groove_with_info(seed, energy, bars).0
}

/// [`write_groove`], plus what the grammar chose.
pub fn write_groove_with_info(seed: u64, energy: f32, bars: u32) -> (Groove, GrooveInfo) {
    let e = groove_energy(energy);
    let bars = bars.clamp(1, MAX_BARS as u32) as usize;
    let d = Draws::new(seed);
    let style = Style::new(&d);
    let base = base_bar(&d, &style, e);
    let fill = (bars >= 2 && d.fill.on < ramp(e, 0.6, 0.95)).then(|| Fill::new(&d.fill, e));
    let fill_bar = fill.map(|_| bars - 1);
    let mut out = Vec::with_capacity(bars);
    for b in 0..bars {
        let mut bar = base;
        let role = Role::of(b, bars);
        open_hat(&mut bar, &d, &style, e, b, role);
        match role {
            Role::Plain => {}
            Role::Half => turnaround(&mut bar, &d.half, &HALF_TURN, &style, e),
            Role::End => turnaround(&mut bar, &d.end, &END_TURN, &style, e),
        }
        if let (Some(fill), true) = (fill, fill_bar == Some(b)) {
            fill.apply(&mut bar, &d.fill);
        }
        out.push(bar);
    }
    let info = GrooveInfo {
        kick_pattern: style.pattern,
        backbeat: style.backbeat,
        timekeeper: style.timekeeper,
        open_step: style.open_step,
        fill_bar,
        fill_start: fill.map(|f| f.start),
    };
    (Groove { bars: out }, info)
}

/// Energy as the grammar reads it: clamped to 0..=1, NaN = 0.5.
fn groove_energy(energy: f32) -> f64 {
    if energy.is_nan() {
        0.5
    } else {
        f64::from(energy.clamp(0.0, 1.0))
    }
}

/// `(x − from)/(to − from)` clamped to 0..=1.
fn ramp(x: f64, from: f64, to: f64) -> f64 {
    ((x - from) / (to - from)).clamp(0.0, 1.0)
}

/// One uniform in [0, 1): the top 53 bits of a `next_u64()`.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// 16 uniforms, one per step, in step order.
fn per_step(rng: &mut ChaCha8Rng) -> [f64; STEPS_PER_BAR] {
    let mut table = [0.0; STEPS_PER_BAR];
    for u in &mut table {
        *u = unit(rng);
    }
    table
}

/// The five draws of one turnaround kind (draws 66–70 or 71–75).
struct TurnDraws {
    pickup_step: f64,
    pickup_from: f64,
    drop: f64,
    drag_from: f64,
    backbeat_pickup_from: f64,
}

impl TurnDraws {
    fn new(rng: &mut ChaCha8Rng) -> TurnDraws {
        // Struct expressions evaluate their fields in the order written: the table's order.
        TurnDraws {
            pickup_step: unit(rng),
            pickup_from: unit(rng),
            drop: unit(rng),
            drag_from: unit(rng),
            backbeat_pickup_from: unit(rng),
        }
    }
}

/// The fill's draws (76–95).
struct FillDraws {
    on: f64,
    figure: f64,
    length: f64,
    open: f64,
    steps: [f64; STEPS_PER_BAR],
}

/// Every uniform the grammar can use, drawn up front in the documented order.
struct Draws {
    kick_pattern: f64,
    kick_optional: f64,
    backbeat: f64,
    layer: f64,
    timekeeper: f64,
    quarters: f64,
    eighths: f64,
    sixteenths: f64,
    open_slot: f64,
    open_turn: f64,
    open_even: f64,
    open_all: f64,
    shaker_on: f64,
    shaker_from: f64,
    pedal_from: f64,
    side_on: f64,
    side_step: f64,
    side_from: f64,
    kick_extra: [f64; STEPS_PER_BAR],
    ghost: [f64; STEPS_PER_BAR],
    hat16: [f64; STEPS_PER_BAR],
    half: TurnDraws,
    end: TurnDraws,
    fill: FillDraws,
}

impl Draws {
    fn new(seed: u64) -> Draws {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(GROOVE_STREAM);
        let r = &mut rng;
        // Struct expressions evaluate their fields in the order written: the table's order.
        Draws {
            kick_pattern: unit(r),
            kick_optional: unit(r),
            backbeat: unit(r),
            layer: unit(r),
            timekeeper: unit(r),
            quarters: unit(r),
            eighths: unit(r),
            sixteenths: unit(r),
            open_slot: unit(r),
            open_turn: unit(r),
            open_even: unit(r),
            open_all: unit(r),
            shaker_on: unit(r),
            shaker_from: unit(r),
            pedal_from: unit(r),
            side_on: unit(r),
            side_step: unit(r),
            side_from: unit(r),
            kick_extra: per_step(r),
            ghost: per_step(r),
            hat16: per_step(r),
            half: TurnDraws::new(r),
            end: TurnDraws::new(r),
            fill: FillDraws {
                on: unit(r),
                figure: unit(r),
                length: unit(r),
                open: unit(r),
                steps: per_step(r),
            },
        }
    }
}

/// The seed's Energy-independent choices.
struct Style {
    /// Index into [`KICK_PATTERNS`].
    pattern: usize,
    /// Snare or clap, accented on 2 and 4.
    backbeat: DrumSound,
    /// The other of the two, layered at higher Energy.
    layer: DrumSound,
    /// Closed hat, ride or shaker.
    timekeeper: DrumSound,
    /// The open hat's step (odd, so never an eighth).
    open_step: usize,
    /// The side stick's step, for seeds that have one.
    side_step: Option<usize>,
    /// Whether a shaker layer joins at high Energy.
    shaker_layer: bool,
    /// `θ16` base: where the sixteenth hats start.
    sixteenths_from: f64,
}

impl Style {
    fn new(d: &Draws) -> Style {
        let (backbeat, layer) = if d.backbeat < 0.72 {
            (DrumSound::Snare, DrumSound::Clap)
        } else {
            (DrumSound::Clap, DrumSound::Snare)
        };
        let timekeeper = if d.timekeeper < 0.78 {
            DrumSound::ClosedHat
        } else if d.timekeeper < 0.9 {
            DrumSound::Ride
        } else {
            DrumSound::Shaker
        };
        let open_step = if d.open_slot < 0.45 {
            15
        } else if d.open_slot < 0.65 {
            7
        } else if d.open_slot < 0.85 {
            11
        } else {
            3
        };
        Style {
            pattern: (d.kick_pattern * KICK_PATTERNS.len() as f64) as usize,
            backbeat,
            layer,
            timekeeper,
            open_step,
            side_step: (d.side_on < 0.22).then(|| [10, 7, 14, 3][(d.side_step * 4.0) as usize]),
            shaker_layer: timekeeper != DrumSound::Shaker && d.shaker_on < 0.3,
            sixteenths_from: 0.48 + 0.2 * d.sixteenths,
        }
    }

    /// `θ16(step)`: the Energy from which the timekeeper plays sixteenth `step`.
    fn sixteenth_from(&self, d: &Draws, step: usize) -> f64 {
        self.sixteenths_from + 0.3 * d.hat16[step]
    }
}

/// The bar every bar of the groove starts from.
fn base_bar(d: &Draws, style: &Style, e: f64) -> DrumBar {
    let mut bar = DrumBar::EMPTY;
    // Kick: the base pattern, then extras.
    for (step, c) in KICK_PATTERNS[style.pattern].chars().enumerate() {
        let level = match c {
            'X' => Level::Accent,
            'x' => Level::Normal,
            'o' if e >= 0.05 + 0.35 * d.kick_optional => Level::Normal,
            _ => continue,
        };
        bar.raise(DrumSound::Kick, step, level);
    }
    let extra = ramp(e, 0.2, 1.0);
    for (step, (&u, &weight)) in d.kick_extra.iter().zip(&KICK_EXTRA_WEIGHT).enumerate() {
        if u < weight * extra {
            bar.raise(DrumSound::Kick, step, Level::Normal);
        }
    }
    // Backbeat, and its layer.
    let layered = d.layer < 0.45 * ramp(e, 0.45, 0.9);
    for step in BACKBEAT_STEPS {
        bar.raise(style.backbeat, step, Level::Accent);
        if layered {
            bar.raise(style.layer, step, Level::Normal);
        }
    }
    // Ghost snares.
    let ghost = ramp(e, 0.3, 1.0);
    for (step, (&u, &weight)) in d.ghost.iter().zip(&GHOST_WEIGHT).enumerate() {
        if Some(step) != style.side_step && u < weight * ghost {
            bar.raise(DrumSound::Snare, step, Level::Ghost);
        }
    }
    // Side stick.
    if let Some(step) = style.side_step {
        if e >= 0.15 + 0.5 * d.side_from {
            bar.raise(DrumSound::SideStick, step, Level::Normal);
        }
    }
    // Timekeeper: quarters, eighths, sixteenths; never on the open slot.
    let quarters_from = (0.4 * d.quarters - 0.1).max(0.0);
    let eighths_from = 0.12 + 0.23 * d.eighths;
    for step in 0..STEPS_PER_BAR {
        if step == style.open_step {
            continue;
        }
        let (plays, level) = match step % 4 {
            0 if BACKBEAT_STEPS.contains(&step) => (true, Level::Normal),
            0 => (e >= quarters_from, Level::Normal),
            2 => (e >= eighths_from, Level::Normal),
            _ => (e >= style.sixteenth_from(d, step), Level::Ghost),
        };
        if plays {
            bar.raise(style.timekeeper, step, level);
        }
    }
    // Shaker layer and the ride's pedal hat.
    if style.shaker_layer && e >= 0.55 + 0.3 * d.shaker_from {
        for step in OFFBEAT_STEPS {
            bar.raise(DrumSound::Shaker, step, Level::Ghost);
        }
    }
    if style.timekeeper == DrumSound::Ride && e >= 0.1 + 0.4 * d.pedal_from {
        for step in BACKBEAT_STEPS {
            bar.raise(DrumSound::PedalHat, step, Level::Normal);
        }
    }
    bar
}

/// How a bar varies from the base bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// As the base bar (plus the open hat of its class).
    Plain,
    /// Bar 4 of a 5–8-bar groove.
    Half,
    /// The last bar of a 2–8-bar groove.
    End,
}

impl Role {
    /// The role of bar `b` (0-based) of a `bars`-bar groove.
    fn of(b: usize, bars: usize) -> Role {
        if bars >= 2 && b == bars - 1 {
            Role::End
        } else if b == 3 && bars > 4 {
            Role::Half
        } else {
            Role::Plain
        }
    }
}

/// The open hat of bar `b`, from the lowest threshold of the classes the bar is in.
fn open_hat(bar: &mut DrumBar, d: &Draws, style: &Style, e: f64, b: usize, role: Role) {
    let mut from = 0.7 + 0.3 * d.open_all;
    if (b + 1).is_multiple_of(2) {
        from = from.min(0.45 + 0.3 * d.open_even);
    }
    if role != Role::Plain {
        from = from.min(0.2 + 0.3 * d.open_turn);
    }
    from = from.min(style.sixteenth_from(d, style.open_step));
    if e >= from {
        bar.raise(DrumSound::OpenHat, style.open_step, Level::Normal);
    }
}

/// The last core kick of the pattern after the one on 1 (what a turnaround may drop).
fn last_core_kick(pattern: &str) -> Option<usize> {
    pattern
        .char_indices()
        .filter(|&(step, c)| step > 0 && (c == 'X' || c == 'x'))
        .map(|(step, _)| step)
        .next_back()
}

/// A turnaround's variations: drop, pickup kick, ghost drag, backbeat pickup.
fn turnaround(bar: &mut DrumBar, t: &TurnDraws, rules: &TurnRules, style: &Style, e: f64) {
    let from = |(from, spread): (f64, f64), u: f64| from + spread * u;
    if t.drop < rules.drop {
        if let Some(step) = last_core_kick(KICK_PATTERNS[style.pattern]) {
            bar.set(DrumSound::Kick, step, Level::Off);
        }
    }
    if e >= from(rules.pickup, t.pickup_from) {
        let step = 13 + (t.pickup_step * 3.0) as usize;
        bar.raise(DrumSound::Kick, step, Level::Normal);
    }
    if e >= from(rules.drag, t.drag_from) {
        bar.raise(DrumSound::Snare, 14, Level::Ghost);
        bar.raise(DrumSound::Snare, 15, Level::Ghost);
    }
    if e >= from(rules.backbeat_pickup, t.backbeat_pickup_from) {
        bar.raise(style.backbeat, 15, Level::Normal);
    }
}

/// The fill figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Figure {
    /// A snare sixteenth run, eighths louder, the last two steps accented.
    Run,
    /// Kicks on the eighths, snare between, accents on 4 and on the last step.
    Trade,
    /// Ghost + accent a sixteenth apart on the eighths.
    Flams,
    /// Everything stops on an open hat; kick and snare pick up.
    Break,
}

/// The fill of a groove that has one.
#[derive(Debug, Clone, Copy)]
struct Fill {
    /// The figure.
    figure: Figure,
    /// First step of the fill (8 or 12).
    start: usize,
}

impl Fill {
    fn new(f: &FillDraws, e: f64) -> Fill {
        let figure = if f.figure < 0.35 {
            Figure::Run
        } else if f.figure < 0.6 {
            Figure::Trade
        } else if f.figure < 0.85 {
            Figure::Flams
        } else {
            Figure::Break
        };
        let start = if f.length < 0.2 + 0.5 * ramp(e, 0.75, 1.0) {
            8
        } else {
            12
        };
        Fill { figure, start }
    }

    /// Clears the fill's steps (all but kicks; kicks too for a trade or a break) and writes
    /// the figure.
    fn apply(self, bar: &mut DrumBar, f: &FillDraws) {
        use DrumSound::{Kick, OpenHat, Snare};
        let clears_kick = matches!(self.figure, Figure::Trade | Figure::Break);
        for step in self.start..STEPS_PER_BAR {
            for sound in DrumSound::ALL {
                if sound != Kick || clears_kick {
                    bar.set(sound, step, Level::Off);
                }
            }
        }
        let steps = self.start..STEPS_PER_BAR;
        match self.figure {
            Figure::Run => {
                for step in steps {
                    if step == self.start || step == 12 || step >= 14 || f.steps[step] < 0.75 {
                        let level = if step >= 14 {
                            Level::Accent
                        } else if step % 2 == 0 {
                            Level::Normal
                        } else {
                            Level::Ghost
                        };
                        bar.raise(Snare, step, level);
                    }
                }
            }
            Figure::Trade => {
                for step in steps {
                    if step == 12 || step == 15 {
                        bar.raise(Snare, step, Level::Accent);
                    } else if step % 2 == 1 {
                        bar.raise(Snare, step, Level::Ghost);
                    } else if step == self.start || f.steps[step] < 0.85 {
                        bar.raise(Kick, step, Level::Normal);
                    }
                }
            }
            Figure::Flams => {
                for step in steps.step_by(2) {
                    if step == self.start || step == 12 || f.steps[step] < 0.7 {
                        bar.raise(Snare, step - 1, Level::Ghost);
                        bar.raise(Snare, step, Level::Accent);
                    }
                }
            }
            Figure::Break => {
                bar.raise(OpenHat, self.start, Level::Normal);
                if f.steps[14] < 0.5 {
                    bar.raise(Kick, 14, Level::Normal);
                }
                bar.raise(Snare, 15, Level::Accent);
            }
        }
        if self.figure != Figure::Break && f.open < 0.6 {
            bar.raise(OpenHat, 14, Level::Normal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_kicks_on_one_and_never_on_the_backbeat() {
        for (i, p) in KICK_PATTERNS.iter().enumerate() {
            assert_eq!(p.chars().count(), STEPS_PER_BAR, "pattern {i}");
            assert!(p.starts_with('X'), "pattern {i}");
            assert!(p.chars().all(|c| ".xXo".contains(c)), "pattern {i}");
            for step in BACKBEAT_STEPS {
                assert_eq!(p.as_bytes()[step], b'.', "pattern {i}");
            }
            // The dropped kick is never the one on 1, and never a pickup step.
            let last = last_core_kick(p);
            assert!(last.is_none_or(|s| (1..13).contains(&s)), "pattern {i}");
        }
        for step in [0, 4, 12] {
            assert_eq!(KICK_EXTRA_WEIGHT[step], 0.0);
            assert_eq!(GHOST_WEIGHT[step], 0.0);
        }
    }

    #[test]
    fn roles() {
        let roles = |bars| (0..bars).map(|b| Role::of(b, bars)).collect::<Vec<_>>();
        use Role::{End as E, Half as H, Plain as P};
        assert_eq!(roles(1), [P]);
        assert_eq!(roles(2), [P, E]);
        assert_eq!(roles(4), [P, P, P, E]);
        assert_eq!(roles(5), [P, P, P, H, E]);
        assert_eq!(roles(8), [P, P, P, H, P, P, P, E]);
    }

    #[test]
    fn ramp_and_energy() {
        assert_eq!(ramp(0.2, 0.3, 1.0), 0.0);
        assert_eq!(ramp(0.75, 0.5, 1.0), 0.5);
        assert_eq!(ramp(2.0, 0.3, 1.0), 1.0);
        assert_eq!(groove_energy(f32::NAN), 0.5);
        assert_eq!(groove_energy(-1.0), 0.0);
        assert_eq!(groove_energy(7.0), 1.0);
    }

    #[test]
    fn draws_are_the_first_96_uniforms_of_the_stream() {
        let d = Draws::new(42);
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        rng.set_stream(GROOVE_STREAM);
        let u: Vec<f64> = (0..96).map(|_| unit(&mut rng)).collect();
        assert_eq!(d.kick_pattern, u[0]);
        assert_eq!(d.side_from, u[17]);
        assert_eq!(d.kick_extra, u[18..34]);
        assert_eq!(d.ghost, u[34..50]);
        assert_eq!(d.hat16, u[50..66]);
        assert_eq!(
            [
                d.half.pickup_step,
                d.half.backbeat_pickup_from,
                d.end.pickup_step
            ],
            [u[66], u[70], u[71]]
        );
        assert_eq!([d.fill.on, d.fill.open], [u[76], u[79]]);
        assert_eq!(d.fill.steps, u[80..96]);
    }
}
