//! Debug builds only: a C entry point that lets a test host read what the performance recorder
//! of the most recently activated instance holds, as the "Last N bars" file the editor would
//! write. The integration tests load the built plugin through `clack-host`, so this is how they
//! check the real recorder against what they received. Release builds do not have it.

use crate::bridge::lock;
use crate::bridge::views::Views;
use std::sync::{Arc, Mutex, Weak};

/// The views of the instance activated last (main thread writes at activation).
static ACTIVATED: Mutex<Option<Weak<Views>>> = Mutex::new(None);

/// Remembers `views` as the instance activated last (main thread, at activation).
pub fn activated(views: &Arc<Views>) {
    *lock(&ACTIVATED) = Some(Arc::downgrade(views));
}

/// Writes the "Last `bars` bars" file of the instance activated last into `out` if it fits in
/// `capacity` bytes, and returns its length (0: nothing has played, or no instance).
///
/// # Safety
/// `out` must be valid for writes of `capacity` bytes (or `capacity` must be 0).
#[no_mangle]
pub unsafe extern "C" fn lofi_loom_debug_recent_midi(
    bars: u32,
    out: *mut u8,
    capacity: usize,
) -> usize {
    let Some(views) = lock(&ACTIVATED).as_ref().and_then(Weak::upgrade) else {
        return 0;
    };
    let host = views.host();
    let Some((bytes, _)) = crate::midi::files::recent_file(views.performance(), bars, &host) else {
        return 0;
    };
    if !out.is_null() && bytes.len() <= capacity {
        // SAFETY: the caller promises `out` is valid for `capacity` bytes, and the file fits.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), out, bytes.len()) };
    }
    bytes.len()
}
