//! `render_groove` runs on a worker that reuses its buffers: it must not allocate. Checked
//! over generated grooves, the densest possible groove and every feel knob at its extremes,
//! inside `assert_no_alloc` (the allocation guard nice-plug installs as the global allocator in
//! debug builds, the one that guards `process()`): any allocation there aborts the test.

// A test that cannot go on should stop at once, with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lofi_loom::music::drums::{
    render_groove, write_groove, DrumBar, DrumFeel, DrumSound, Groove, Level,
};

#[test]
fn render_groove_does_not_allocate() {
    let mut dense = DrumBar::EMPTY;
    for sound in DrumSound::ALL {
        for step in 0..16 {
            dense.set(sound, step, Level::Accent);
        }
    }
    let mut grooves: Vec<Groove> = (0..50)
        .map(|s| write_groove(s, s as f32 / 49.0, 8))
        .collect();
    grooves.push(Groove {
        bars: vec![dense; 8],
    });
    grooves.push(Groove { bars: vec![] });
    let feels = [
        DrumFeel::default(),
        DrumFeel {
            energy: 1.0,
            swing_pct: 60.0,
            humanize_pct: 100.0,
            humanize_seed: 3,
            lazy_pct: 100.0,
        },
    ];
    let count = nice_assert_no_alloc::assert_no_alloc(|| {
        let mut count = 0usize;
        let mut sink = |h: lofi_loom::music::drums::DrumHit| count += usize::from(h.velocity > 0);
        for g in &grooves {
            for feel in &feels {
                render_groove(g, 8, feel, &mut sink);
            }
        }
        count
    });
    // The dense groove played all 8 × 16 × 9 hits, twice.
    assert!(count >= 2 * 8 * 16 * 9);
}
