//! The Shape card: swing, humanize, length, key, mode, swap, the locks and the parts.

use super::{controls, theme, LoomApp};
use crate::music::knobs;
use crate::music::phrase::Part;
use crate::plugin::params::PartParams;
use egui::{vec2, Align, CornerRadius, Layout as EguiLayout, RichText, Sense, Ui};
use nice_plug::prelude::ParamSetter;

impl LoomApp {
    /// Swing, humanize, length, key, mode, swap, locks, parts.
    pub(super) fn shape(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        let params = self.shared.params.clone();
        let g = &mut self.gestures;
        let gap = 12.0;
        let width = ui.available_width() - 2.0 * gap;
        let widths = [width * 0.27, width * 0.31, width * 0.42];
        let column = |ui: &mut Ui, w: f32, contents: &mut dyn FnMut(&mut Ui)| {
            ui.allocate_ui_with_layout(
                vec2(w, ui.available_height()),
                EguiLayout::top_down(Align::Min),
                |ui| {
                    ui.set_width(w);
                    contents(ui);
                },
            );
        };
        ui.horizontal_top(|ui| {
            column(ui, widths[0], &mut |ui| {
                controls::value_bar(ui, g, setter, &params.swing, "Swing", theme::MELODY, 26.0);
                controls::value_bar(
                    ui,
                    g,
                    setter,
                    &params.humanize,
                    "Humanize",
                    theme::BASS,
                    26.0,
                );
                controls::toggle(ui, g, setter, &params.lock_chords, "Lock chords")
                    .on_hover_text("New phrases keep these chords and write a new melody");
                controls::toggle(ui, g, setter, &params.lock_rhythm, "Lock melody rhythm")
                    .on_hover_text("New phrases keep the melody's rhythm and choose new notes");
            });
            ui.add_space(gap);
            column(ui, widths[1], &mut |ui| {
                egui::Grid::new("phrase settings")
                    .num_columns(2)
                    .spacing(vec2(8.0, 6.0))
                    .show(ui, |ui| {
                        ui.label("Length");
                        controls::enum_combo(ui, g, setter, &params.bars, 100.0);
                        ui.end_row();
                        ui.label("Swap at");
                        controls::enum_combo(ui, g, setter, &params.swap_at, 100.0)
                            .on_hover_text("When a new phrase replaces the playing one");
                        ui.end_row();
                        ui.label("Key");
                        controls::enum_combo(ui, g, setter, &params.key, 100.0);
                        ui.end_row();
                        ui.label("Mode");
                        controls::enum_combo(ui, g, setter, &params.mode, 100.0);
                        ui.end_row();
                    });
            });
            ui.add_space(gap);
            column(ui, widths[2], &mut |ui| {
                egui::Grid::new("parts")
                    .num_columns(3)
                    .spacing(vec2(6.0, 6.0))
                    .show(ui, |ui| {
                        ui.label(RichText::new("Part").small().color(theme::MUTED));
                        ui.label(RichText::new("Channel").small().color(theme::MUTED));
                        ui.label(RichText::new("Octave").small().color(theme::MUTED));
                        ui.end_row();
                        let parts: [(&PartParams, &str, Part); 3] = [
                            (&params.chords, "Chords", Part::Chords),
                            (&params.bass, "Bass", Part::Bass),
                            (&params.melody, "Melody", Part::Melody),
                        ];
                        for (part, name, which) in parts {
                            ui.horizontal(|ui| {
                                ui.spacing_mut().item_spacing.x = 4.0;
                                let (r, _) = ui.allocate_exact_size(vec2(8.0, 8.0), Sense::hover());
                                ui.painter().rect_filled(
                                    r,
                                    CornerRadius::same(2),
                                    theme::part_colour(which),
                                );
                                controls::toggle(ui, g, setter, &part.enabled, name);
                            });
                            controls::int_combo(
                                ui,
                                g,
                                setter,
                                &part.channel,
                                i32::from(knobs::CHANNELS.0)..=i32::from(knobs::CHANNELS.1),
                                |c| c.to_string(),
                                28.0,
                            )
                            .on_hover_text(format!("MIDI channel of the {name} part"));
                            controls::int_combo(
                                ui,
                                g,
                                setter,
                                &part.octave,
                                i32::from(knobs::OCTAVES.0)..=i32::from(knobs::OCTAVES.1),
                                |o| match o {
                                    0 => "0".to_owned(),
                                    o => format!("{o:+}"),
                                },
                                28.0,
                            )
                            .on_hover_text(format!("Octave shift of the {name} part"));
                            ui.end_row();
                        }
                    });
            });
        });
    }
}
