//! The harmony listener runs on the audio thread (Follow reads the input notes there): none of
//! its entry points may allocate. Every one of them runs over every pitch-class set, bass hint
//! and mode inside `assert_no_alloc`, the allocation guard nice-plug installs as the global
//! allocator in debug builds (the one that guards `process()`): any allocation aborts the test.

use lofi_loom::music::harmony::{bass_name, name, recognize, to_numeral, KeyEstimator};
use lofi_loom::music::progression::Mode;

#[test]
fn audio_thread_entry_points_do_not_allocate() {
    let mut estimator = KeyEstimator::new();
    let sink = nice_assert_no_alloc::assert_no_alloc(|| {
        let mut sink = 0usize;
        for set in 0..0x1000u16 {
            for bass in [None, Some((set % 12) as u8), Some(200)] {
                if let Some(chord) = recognize(set, bass) {
                    for mode in Mode::ALL {
                        let n = name(&chord, (set % 12) as u8, mode);
                        sink += n.as_str().len() + n.root().len() + n.suffix().len();
                        sink += usize::from(to_numeral(&chord, 3, mode).degree);
                        sink += bass_name(&chord, 3, mode).map_or(0, str::len);
                    }
                }
            }
            estimator.add((set % 12) as u8, f32::from(set % 5));
            if set % 16 == 0 {
                estimator.end_bar();
            }
            sink += estimator.key().map_or(0, |(k, _)| usize::from(k));
            if set % 1000 == 999 {
                estimator.reset();
            }
        }
        sink
    });
    assert!(sink > 0);
}
