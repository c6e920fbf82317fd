//! The look: a calm, dark lo-fi palette (night-time aubergine, warm cream text, soft pastel
//! parts) and the egui style built from it. Sizes are logical points, so the host's scale
//! factor scales everything evenly.

use egui::{Color32, CornerRadius, FontFamily, FontId, Stroke, TextStyle, Visuals};

/// Window background.
pub const BACKGROUND: Color32 = Color32::from_rgb(0x1c, 0x1a, 0x24);
/// Panels and cards.
pub const PANEL: Color32 = Color32::from_rgb(0x25, 0x22, 0x31);
/// Inset areas (piano roll, XY pad).
pub const INSET: Color32 = Color32::from_rgb(0x16, 0x14, 0x1d);
/// Grid lines in insets.
pub const GRID: Color32 = Color32::from_rgb(0x2e, 0x2a, 0x3b);
/// Bar lines in the piano roll.
pub const BAR_LINE: Color32 = Color32::from_rgb(0x4a, 0x44, 0x5e);
/// Body text.
pub const TEXT: Color32 = Color32::from_rgb(0xe9, 0xe2, 0xd3);
/// Secondary text.
pub const MUTED: Color32 = Color32::from_rgb(0x9a, 0x93, 0xa8);
/// The accent: buttons that act, the playhead, the highlighted chord.
pub const ACCENT: Color32 = Color32::from_rgb(0xf2, 0xa6, 0x79);
/// Text on the accent.
pub const ON_ACCENT: Color32 = Color32::from_rgb(0x24, 0x1a, 0x16);
/// Chords in the piano roll.
pub const CHORDS: Color32 = Color32::from_rgb(0xa9, 0x9c, 0xe8);
/// Bass in the piano roll.
pub const BASS: Color32 = Color32::from_rgb(0x6c, 0xc4, 0xb0);
/// Melody in the piano roll.
pub const MELODY: Color32 = Color32::from_rgb(0xf5, 0xc2, 0x7a);
/// Problems the user should read.
pub const ERROR: Color32 = Color32::from_rgb(0xf0, 0x7f, 0x7f);
/// The drum lane.
pub const DRUMS: Color32 = Color32::from_rgb(0xd8, 0x8f, 0xb4);
/// Things that went well.
pub const OK: Color32 = Color32::from_rgb(0x9f, 0xd4, 0x8c);

/// The colour of a part in the piano roll and its legend.
pub fn part_colour(part: crate::music::phrase::Part) -> Color32 {
    match part {
        crate::music::phrase::Part::Chords => CHORDS,
        crate::music::phrase::Part::Bass => BASS,
        crate::music::phrase::Part::Melody => MELODY,
        crate::music::phrase::Part::Drums => DRUMS,
    }
}

/// A large font for headings and the chord line.
pub fn big(size: f32) -> FontId {
    FontId::new(size, FontFamily::Proportional)
}

/// Applies the palette and text sizes to `ctx`.
pub fn apply(ctx: &egui::Context) {
    let mut visuals = Visuals::dark();
    visuals.panel_fill = BACKGROUND;
    visuals.window_fill = PANEL;
    visuals.extreme_bg_color = INSET;
    visuals.faint_bg_color = PANEL;
    visuals.override_text_color = Some(TEXT);
    visuals.hyperlink_color = ACCENT;
    visuals.selection.bg_fill = ACCENT.gamma_multiply(0.55);
    visuals.selection.stroke = Stroke::new(1.0, ACCENT);
    let radius = CornerRadius::same(6);
    for w in [
        &mut visuals.widgets.noninteractive,
        &mut visuals.widgets.inactive,
        &mut visuals.widgets.hovered,
        &mut visuals.widgets.active,
        &mut visuals.widgets.open,
    ] {
        w.corner_radius = radius;
    }
    visuals.widgets.noninteractive.bg_fill = PANEL;
    visuals.widgets.noninteractive.bg_stroke = Stroke::new(1.0, GRID);
    visuals.widgets.inactive.bg_fill = Color32::from_rgb(0x33, 0x2f, 0x42);
    visuals.widgets.inactive.weak_bg_fill = Color32::from_rgb(0x33, 0x2f, 0x42);
    visuals.widgets.hovered.bg_fill = Color32::from_rgb(0x40, 0x3a, 0x52);
    visuals.widgets.hovered.weak_bg_fill = Color32::from_rgb(0x40, 0x3a, 0x52);
    visuals.widgets.active.bg_fill = Color32::from_rgb(0x4d, 0x45, 0x62);
    visuals.widgets.active.weak_bg_fill = Color32::from_rgb(0x4d, 0x45, 0x62);
    ctx.all_styles_mut(|style| {
        style.visuals = visuals.clone();
        style.text_styles.insert(TextStyle::Body, big(14.0));
        style.text_styles.insert(TextStyle::Button, big(14.0));
        style.text_styles.insert(TextStyle::Small, big(11.5));
        style.text_styles.insert(TextStyle::Heading, big(20.0));
        style.text_styles.insert(
            TextStyle::Monospace,
            FontId::new(13.0, FontFamily::Monospace),
        );
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        style.spacing.button_padding = egui::vec2(10.0, 4.0);
        style.spacing.slider_width = 150.0;
        style.spacing.interact_size.y = 22.0;
    });
}
