//! No allocation in the band's real-time calls (`reset/note_on/note_off/release_all/
//! set_playing/render`), over the demo loop in random block sizes at three settings and every
//! key on every instrument: all of it inside `assert_no_alloc`, the allocation guard nice-plug
//! installs as the global allocator in debug builds (the one that guards `process()`); an
//! allocation aborts the test.

// A test that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/band_loop.rs"]
mod common;

use common::*;
use lofi_loom::audio::band::{Band, Instrument, SoundSettings, PRESETS};

#[test]
fn realtime_calls_never_allocate() {
    let events = demo_loop(4, FS);
    let total = (bar_samples(FS) * 4.0) as usize + 4 * FS as usize;
    let (mut l, mut r) = (vec![0.0f32; 8192], vec![0.0f32; 8192]);
    let mut rng = TestRng(0x1234_5678);
    let maxed = SoundSettings {
        tone: 1.0,
        wobble: 1.0,
        drive: 1.0,
        dust: 1.0,
        crush: 1.0,
        space: 1.0,
        ..Default::default()
    };
    let mut band = Band::new(FS);

    nice_assert_no_alloc::assert_no_alloc(|| {
        for settings in [SoundSettings::default(), maxed, PRESETS[2].1] {
            band.reset();
            let (mut pos, mut next, mut stopped) = (0usize, 0usize, false);
            while pos < total {
                while next < events.len() && events[next].0 as usize <= pos {
                    apply(&mut band, events[next].1);
                    next += 1;
                }
                if next == events.len() && !stopped {
                    band.set_playing(false);
                    band.release_all();
                    stopped = true;
                }
                let event_at = events.get(next).map_or(total, |e| e.0 as usize);
                let n = (rng.below(8193) as usize)
                    .min(event_at.saturating_sub(pos))
                    .min(total - pos);
                band.render(&settings, &mut l[..n], &mut r[..n]);
                pos += n;
            }
            for key in 0..=127u8 {
                for inst in [
                    Instrument::Keys,
                    Instrument::Melody,
                    Instrument::Bass,
                    Instrument::Kit,
                ] {
                    band.note_on(inst, key, 127);
                    band.note_off(inst, key);
                }
            }
            band.render(&settings, &mut l, &mut r);
        }
    });
}
