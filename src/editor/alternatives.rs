//! The alternatives strip: the candidates not chosen for the latest new seed (closest to the
//! knobs first), each a small card with its chords and a tiny roll. Clicking one asks the
//! worker to write it next (`EditorToWorker::UseAlternative`); it swaps in as any new phrase
//! does and joins the history. Where the cards go is `layout::alternative_cards`.

use super::layout::alternative_cards;
use super::roll::{note_rect, pitch_range};
use super::{theme, LoomApp, Snapshot};
use crate::bridge::messages::EditorToWorker;
use crate::music::names;
use crate::music::phrase::Part;
use egui::{vec2, Align2, CornerRadius, FontId, Rect, Sense, Stroke, StrokeKind, Ui};

impl LoomApp {
    /// The strip of alternatives in `rect`; the one playing (once picked) is outlined.
    pub(super) fn alternatives(&mut self, ui: &mut Ui, rect: Rect, snap: &Snapshot) {
        let alternatives = self.shared.views.alternatives();
        let playing_seed = snap.phrase.as_ref().map(|p| p.seed);
        let painter = ui.painter_at(rect);
        if alternatives.is_empty() {
            painter.rect_filled(rect, CornerRadius::same(10), theme::PANEL);
            painter.text(
                rect.center(),
                Align2::CENTER_CENTER,
                "Regenerate to see alternatives",
                FontId::proportional(13.0),
                theme::MUTED,
            );
            return;
        }
        let mut picked = None;
        for (i, (card, view)) in alternative_cards(rect, alternatives.len())
            .into_iter()
            .zip(alternatives.iter())
            .enumerate()
        {
            let response = ui
                .interact(
                    card,
                    ui.make_persistent_id(("alternative", i)),
                    Sense::click(),
                )
                .on_hover_text(format!(
                    "{} · {} · seed {}\nClick to play it next",
                    names::key_label(&view.progression),
                    names::chord_line(&view.progression),
                    view.seed
                ));
            let fill = if response.hovered() {
                theme::GRID
            } else {
                theme::PANEL
            };
            let painter = ui.painter_at(card);
            painter.rect_filled(card, CornerRadius::same(8), fill);
            if playing_seed == Some(view.seed) {
                painter.rect_stroke(
                    card.shrink(1.0),
                    CornerRadius::same(8),
                    Stroke::new(1.5, theme::ACCENT),
                    StrokeKind::Inside,
                );
            }
            // The first chords, then a tiny roll of the chords and the melody.
            let chords = names::chord_names(&view.progression);
            let label: Vec<&str> = chords.iter().take(2).map(String::as_str).collect();
            painter.text(
                card.left_top() + vec2(6.0, 4.0),
                Align2::LEFT_TOP,
                label.join(" "),
                FontId::proportional(11.0),
                theme::TEXT,
            );
            let roll = Rect::from_min_max(
                card.left_top() + vec2(4.0, 20.0),
                card.right_bottom() - vec2(4.0, 4.0),
            );
            let notes: Vec<_> = view
                .phrase
                .notes()
                .iter()
                .filter(|n| matches!(n.part, Part::Chords | Part::Melody))
                .copied()
                .collect();
            let range = pitch_range(&notes);
            let beats = view.phrase.len_beats();
            for note in &notes {
                let colour = if note.part == Part::Melody {
                    theme::MELODY
                } else {
                    theme::CHORDS
                };
                painter.rect_filled(note_rect(roll, note, beats, range), 0.0, colour);
            }
            if response.clicked() {
                picked = Some(view.seed);
            }
        }
        if let Some(seed) = picked {
            self.shared.views.send(EditorToWorker::UseAlternative {
                seed,
                knobs: self.shared.params.knobs(),
            });
        }
    }
}
