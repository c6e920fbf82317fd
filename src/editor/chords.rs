//! The chord card: the progression's chords named in its key (see [`crate::music::names`])
//! with the one under the playhead lit. Which chord is lit is a pure function, tested without
//! a window.

use super::{theme, Snapshot};
use crate::music::names;
use crate::music::phrase::Part;
use egui::{vec2, Align, CornerRadius, Layout as EguiLayout, RichText, Sense, Ui};

/// Which of the progression's `chord_count` chords sounds at `cursor_bars` bars into a phrase
/// of `phrase_bars` bars: one chord per bar, the progression repeating when the phrase is
/// longer, the cursor wrapping at the phrase's end. None when stopped or empty.
pub fn highlighted_chord(
    cursor_bars: Option<f64>,
    phrase_bars: u32,
    chord_count: usize,
) -> Option<usize> {
    let cursor = cursor_bars.filter(|c| c.is_finite())?;
    if chord_count == 0 || phrase_bars == 0 {
        return None;
    }
    let bar = cursor.rem_euclid(f64::from(phrase_bars)).floor() as usize;
    Some(bar.min(phrase_bars as usize - 1) % chord_count)
}

/// Key, the chord line with the playing chord highlighted, and the phrase queued next.
pub(super) fn chord_card(ui: &mut Ui, snap: &Snapshot) {
    let Some(view) = &snap.phrase else {
        ui.label(
            RichText::new("No phrase yet")
                .font(theme::big(24.0))
                .color(theme::MUTED),
        );
        ui.label(
            RichText::new("Press Regenerate, or start your DAW's transport.").color(theme::MUTED),
        );
        return;
    };
    let chord_names = names::chord_names(&view.progression);
    let lit = highlighted_chord(snap.host.cursor_bars, view.phrase.bars(), chord_names.len());
    ui.horizontal(|ui| {
        ui.label(
            RichText::new(names::key_label(&view.progression))
                .color(theme::MUTED)
                .strong(),
        );
        ui.label(
            RichText::new(format!("seed {}", view.seed))
                .color(theme::MUTED)
                .monospace(),
        )
        .on_hover_text("The same seed and knobs always give the same notes");
        legend(ui);
    });
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        for (i, name) in chord_names.iter().enumerate() {
            if i > 0 {
                ui.label(
                    RichText::new(names::SEPARATOR)
                        .font(theme::big(24.0))
                        .color(theme::MUTED),
                );
            }
            let colour = if lit == Some(i) {
                theme::ACCENT
            } else {
                theme::TEXT
            };
            ui.label(RichText::new(name).font(theme::big(24.0)).color(colour));
        }
    });
    if let Some(next) = &snap.next {
        ui.label(
            RichText::new(format!(
                "Next, at the bar line: {}",
                names::chord_line(&next.progression)
            ))
            .color(theme::MELODY),
        );
    }
}

/// The part colours.
fn legend(ui: &mut Ui) {
    ui.with_layout(EguiLayout::right_to_left(Align::Center), |ui| {
        for (part, name) in [
            (Part::Drums, "Drums"),
            (Part::Melody, "Melody"),
            (Part::Bass, "Bass"),
            (Part::Chords, "Chords"),
        ] {
            ui.label(RichText::new(name).small().color(theme::MUTED));
            let (r, _) = ui.allocate_exact_size(vec2(10.0, 10.0), Sense::hover());
            ui.painter()
                .rect_filled(r, CornerRadius::same(2), theme::part_colour(part));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chord_under_the_cursor_is_highlighted() {
        // 4 chords, 4-bar phrase: bar = floor(cursor).
        assert_eq!(highlighted_chord(Some(0.0), 4, 4), Some(0));
        assert_eq!(highlighted_chord(Some(0.999), 4, 4), Some(0));
        assert_eq!(highlighted_chord(Some(1.0), 4, 4), Some(1));
        assert_eq!(highlighted_chord(Some(3.5), 4, 4), Some(3));
        // Past the end wraps: 4.25 bars into a 4-bar phrase is bar 0 again.
        assert_eq!(highlighted_chord(Some(4.25), 4, 4), Some(0));
        // 2 chords repeated over an 8-bar phrase: bar 5 plays chord 5 mod 2 = 1.
        assert_eq!(highlighted_chord(Some(5.5), 8, 2), Some(1));
        assert_eq!(highlighted_chord(Some(6.0), 8, 2), Some(0));
        // A 2-bar phrase cut from 4 chords never reaches chord 2.
        assert_eq!(highlighted_chord(Some(2.5), 2, 4), Some(0));
        // Stopped, or nothing to highlight.
        assert_eq!(highlighted_chord(None, 4, 4), None);
        assert_eq!(highlighted_chord(Some(f64::NAN), 4, 4), None);
        assert_eq!(highlighted_chord(Some(1.0), 4, 0), None);
    }
}
