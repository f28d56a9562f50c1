//! The charts of `commentguard eval`, as SVG.
//!
//! SVG because it needs no font library: plotters is built without its `ttf` feature, so it
//! only estimates text widths for layout and leaves the glyphs to whatever views the file.
//! That keeps the build to plain cargo on a fresh machine, with nothing to install.
//!
//! The inputs are plain numbers so that this module stays ignorant of the classifier; it
//! trusts none of them, though. A NaN or out-of-range value is skipped (and the legend says
//! how many were), and an empty series gives a chart that says "no data" rather than an
//! error, so one degenerate split never costs the operator the other charts of a run.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// What one evaluation run drew its charts from.
pub struct PlotInput<'a> {
    /// e.g. "youtube-spam, leave one source out" — used in chart titles.
    pub title: &'a str,
    /// ROC curve points (false-positive rate, true-positive rate), sorted, from (0,0) to (1,1).
    pub roc: &'a [(f64, f64)],
    pub auc: f64,
    /// Held-out spam probabilities of ham and of spam comments.
    pub ham_scores: &'a [f64],
    pub spam_scores: &'a [f64],
    /// Reliability curve: (mean predicted probability, observed spam fraction, comments) per bin.
    pub reliability: &'a [(f64, f64, usize)],
    /// The hold and reject thresholds, drawn as vertical lines on the histogram.
    /// (Also marked as operating points on the ROC curve, from the scores above.)
    pub hold_threshold: f64,
    pub reject_threshold: f64,
    /// Where those thresholds come from when they are not one model's, shown beside them in
    /// the legends: cross-validation's folds each choose their own, and a chart can mark only
    /// one of each (e.g. "median of 5 folds"). Empty for a single model's.
    pub thresholds_note: &'a str,
}

/// Writes roc.svg, histogram.svg and reliability.svg into `dir` (created if missing) and returns their paths.
///
/// Each chart is rendered in memory before its file is opened, so a failure names the file
/// that could not be written instead of surfacing as a plotting error.
pub fn draw(dir: &Path, input: &PlotInput) -> anyhow::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)
        .with_context(|| format!("could not create the chart directory {}", dir.display()))?;
    let charts: [(&str, (u32, u32), Painter); 3] = [
        ("roc.svg", (1200, 560), paint_roc),
        ("histogram.svg", (1100, 560), paint_histogram),
        ("reliability.svg", (720, 680), paint_reliability),
    ];
    let mut written = Vec::with_capacity(charts.len());
    for (name, size, paint) in charts {
        let path = dir.join(name);
        let svg = render(size, |area| paint(area, input))
            .with_context(|| format!("could not draw chart {}", path.display()))?;
        fs::write(&path, svg)
            .with_context(|| format!("could not write chart {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// `note` as " (note)", or nothing when it is empty.
fn bracketed(note: &str) -> String {
    if note.is_empty() {
        String::new()
    } else {
        format!(" ({note})")
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), DrawingAreaErrorKind<io::Error>>;
type Painter = fn(&Area<'_>, &PlotInput<'_>) -> DrawResult;

const FONT: &str = "sans-serif";
const HAM: RGBColor = RGBColor(31, 119, 180);
const SPAM: RGBColor = RGBColor(214, 39, 40);
const CURVE: RGBColor = RGBColor(31, 119, 180);
const HOLD: RGBColor = RGBColor(255, 127, 14);
const REJECT: RGBColor = RGBColor(106, 61, 154);
const GUIDE: RGBColor = RGBColor(128, 128, 128);

/// The zoomed ROC panel's right edge: a spam filter lives or dies by how little ham it
/// flags, so the useful operating points all sit in the first few percent of FPR.
const ROC_ZOOM_FPR: f64 = 0.05;
/// Histogram bins over [0, 1]; 50 keeps the 0.02-wide bins narrow enough to see where the
/// thresholds cut without making the sparse middle of the range pure noise.
const HISTOGRAM_BINS: usize = 50;
/// The log axis cannot reach 0, so bars start here; below 1 so a bin of one comment still
/// shows as a bar.
const HISTOGRAM_FLOOR: f64 = 0.5;

/// Renders into a string so that plotters never touches the file system itself: its file
/// backend reports a failed write without the path, or not at all when it writes on drop.
fn render(
    size: (u32, u32),
    paint: impl FnOnce(&Area<'_>) -> DrawResult,
) -> Result<String, DrawingAreaErrorKind<io::Error>> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        paint(&root)?;
        root.present()?;
    }
    Ok(svg)
}

fn in_unit_interval(v: f64) -> bool {
    (0.0..=1.0).contains(&v)
}

/// Keeps the probabilities that can be placed on a [0, 1] axis and counts the rest, so the
/// chart can admit to what it left out instead of silently shrinking a class.
fn valid_scores(scores: &[f64]) -> (Vec<f64>, usize) {
    let valid: Vec<f64> = scores
        .iter()
        .copied()
        .filter(|p| in_unit_interval(*p))
        .collect();
    let skipped = scores.len() - valid.len();
    (valid, skipped)
}

fn skipped_note(skipped: usize) -> String {
    if skipped == 0 {
        String::new()
    } else {
        format!(", {skipped} invalid skipped")
    }
}

/// Grey centred text standing in for a series with nothing to draw.
fn note_style() -> TextStyle<'static> {
    (FONT, 20)
        .into_font()
        .color(&GUIDE)
        .pos(Pos::new(HPos::Center, VPos::Center))
}

/// The series legend, in one style on every chart.
fn draw_legend<'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.4))
        .draw()
}

fn percent(v: f64, decimals: usize) -> String {
    format!("{:.*}%", decimals, v * 100.0)
}

/// Where the classifier alone would operate at threshold `t`: moderation flags a comment
/// whose spam probability is at or above the threshold, so this counts the same way.
fn operating_point(ham: &[f64], spam: &[f64], t: f64) -> Option<(f64, f64)> {
    if ham.is_empty() || spam.is_empty() || !t.is_finite() {
        return None;
    }
    let share =
        |scores: &[f64]| scores.iter().filter(|p| **p >= t).count() as f64 / scores.len() as f64;
    Some((share(ham), share(spam)))
}

/// The curve up to `x_max`, ending exactly on the panel's edge: plotters does not clip a
/// line but clamps each point beyond the plotting area onto its edge, which would draw the
/// rest of the curve as a false vertical jump at the zoom limit.
fn clip_roc(points: &[(f64, f64)], x_max: f64) -> Vec<(f64, f64)> {
    let mut clipped = Vec::new();
    for (i, &(x, y)) in points.iter().enumerate() {
        if x <= x_max {
            clipped.push((x, y));
            continue;
        }
        if let Some(&(x0, y0)) = i.checked_sub(1).and_then(|j| points.get(j)) {
            let y_edge = y0 + (y - y0) * (x_max - x0) / (x - x0);
            clipped.push((x_max, y_edge));
        }
        break;
    }
    clipped
}

struct OperatingPoint {
    name: &'static str,
    threshold: f64,
    /// Where the threshold comes from, as `bracketed` gives it.
    note: String,
    color: RGBColor,
    fpr: f64,
    tpr: f64,
}

fn paint_roc(root: &Area<'_>, input: &PlotInput<'_>) -> DrawResult {
    let auc = if input.auc.is_finite() {
        format!("AUC {:.4}", input.auc)
    } else {
        "AUC n/a".to_string()
    };
    let root = root.titled(&format!("ROC — {} ({auc})", input.title), (FONT, 24))?;

    let mut points: Vec<(f64, f64)> = input
        .roc
        .iter()
        .copied()
        .filter(|&(x, y)| in_unit_interval(x) && in_unit_interval(y))
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let skipped = input.roc.len() - points.len();

    let (ham, _) = valid_scores(input.ham_scores);
    let (spam, _) = valid_scores(input.spam_scores);
    let operating: Vec<OperatingPoint> = [
        ("hold", input.hold_threshold, HOLD),
        ("reject", input.reject_threshold, REJECT),
    ]
    .into_iter()
    .filter_map(|(name, threshold, color)| {
        let (fpr, tpr) = operating_point(&ham, &spam, threshold)?;
        Some(OperatingPoint {
            name,
            threshold,
            note: bracketed(input.thresholds_note),
            color,
            fpr,
            tpr,
        })
    })
    .collect();

    let panels = root.split_evenly((1, 2));
    let curve_label = format!("classifier, {auc}{}", skipped_note(skipped));
    paint_roc_panel(
        &panels[0],
        "all false-positive rates",
        1.0,
        &points,
        &operating,
        Some(&curve_label),
    )?;
    paint_roc_panel(
        &panels[1],
        &format!(
            "zoomed to false-positive rate ≤ {}",
            percent(ROC_ZOOM_FPR, 0)
        ),
        ROC_ZOOM_FPR,
        &points,
        &operating,
        None,
    )
}

/// One ROC panel over FPR [0, `x_max`]; only the first panel carries the legend, since both
/// draw the same series in the same colours.
fn paint_roc_panel(
    area: &Area<'_>,
    caption: &str,
    x_max: f64,
    points: &[(f64, f64)],
    operating: &[OperatingPoint],
    legend: Option<&str>,
) -> DrawResult {
    let x_decimals = if x_max < 0.2 { 1 } else { 0 };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 17))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("false-positive rate (share of ham flagged)")
        .y_desc("true-positive rate (share of spam caught)")
        .x_labels(6)
        .y_labels(11)
        .x_label_formatter(&|v| percent(*v, x_decimals))
        .y_label_formatter(&|v| percent(*v, 0))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()?;

    chart
        .draw_series(LineSeries::new(
            [(0.0, 0.0), (x_max, x_max)],
            GUIDE.stroke_width(1),
        ))?
        .label("chance")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], GUIDE.stroke_width(1)));

    let curve = clip_roc(points, x_max);
    if curve.len() < 2 {
        chart.plotting_area().draw(&Text::new(
            "no ROC points",
            (x_max / 2.0, 0.5),
            note_style(),
        ))?;
    } else {
        let series = chart.draw_series(LineSeries::new(curve, CURVE.stroke_width(2)))?;
        if let Some(label) = legend {
            series
                .label(label)
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], CURVE.stroke_width(2)));
        }
    }

    for op in operating {
        let color = op.color;
        // An operating point beyond the zoom is left out, not clamped onto the edge, where
        // it would claim a false-positive rate it does not have.
        // A label near the panel's right edge hangs to the left of its point, inside the chart.
        let (anchor, dx) = if op.fpr > 0.6 * x_max {
            (HPos::Right, -8)
        } else {
            (HPos::Left, 8)
        };
        let visible = (op.fpr <= x_max).then(|| {
            EmptyElement::at((op.fpr, op.tpr))
                + Circle::new((0, 0), 5, color.filled())
                + Text::new(
                    format!("{} ≥ {:.3}", op.name, op.threshold),
                    (dx, 4),
                    (FONT, 13)
                        .into_font()
                        .color(&color)
                        .pos(Pos::new(anchor, VPos::Top)),
                )
        });
        let series = chart.draw_series(visible)?;
        if legend.is_some() {
            series
                .label(format!(
                    "{} ≥ {:.3}{}, classifier alone: FPR {}, TPR {}",
                    op.name,
                    op.threshold,
                    op.note,
                    percent(op.fpr, 2),
                    percent(op.tpr, 1)
                ))
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, color.filled()));
        }
    }

    if legend.is_some() {
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    }
    Ok(())
}

fn bin_counts(scores: &[f64]) -> Vec<usize> {
    let mut counts = vec![0; HISTOGRAM_BINS];
    for p in scores {
        // p == 1.0 belongs to the last bin, not one past it.
        let bin = ((p * HISTOGRAM_BINS as f64) as usize).min(HISTOGRAM_BINS - 1);
        counts[bin] += 1;
    }
    counts
}

/// Labels only the integral ticks: a count axis with "0.5" or "3.16" on it invites the
/// reader to wonder what half a comment is.
fn count_label(v: f64) -> String {
    if v >= 1.0 && (v - v.round()).abs() < 1e-6 {
        format!("{}", v.round() as u64)
    } else {
        String::new()
    }
}

fn paint_histogram(root: &Area<'_>, input: &PlotInput<'_>) -> DrawResult {
    let (ham, ham_skipped) = valid_scores(input.ham_scores);
    let (spam, spam_skipped) = valid_scores(input.spam_scores);
    let ham_counts = bin_counts(&ham);
    let spam_counts = bin_counts(&spam);
    let max = ham_counts
        .iter()
        .chain(&spam_counts)
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    // The top quarter of the log axis stays above the tallest bar, so the legend and the
    // threshold labels never cover a bar, wherever the thresholds are.
    let max = max as f64;
    let y_top = max * (max / HISTOGRAM_FLOOR).cbrt();

    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("Spam probability, ham vs spam — {}", input.title),
            (FONT, 24),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, (HISTOGRAM_FLOOR..y_top).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("spam probability (held out)")
        .y_desc("comments per bin (log scale)")
        .x_labels(11)
        .x_label_formatter(&|v| format!("{v:.1}"))
        .y_label_formatter(&|v| count_label(*v))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()?;

    // Side by side within each bin rather than overlaid, so neither class hides the other
    // where they overlap, which is exactly the region the thresholds are chosen in.
    let width = 1.0 / HISTOGRAM_BINS as f64;
    let bars = |counts: &[usize], offset: f64, color: RGBColor| {
        counts
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(move |(i, c)| {
                let x0 = i as f64 * width + offset * width;
                Rectangle::new(
                    [
                        (x0 + 0.04 * width, HISTOGRAM_FLOOR),
                        (x0 + 0.5 * width, *c as f64),
                    ],
                    color.mix(0.85).filled(),
                )
            })
            .collect::<Vec<_>>()
    };
    let legend_box = |color: RGBColor| {
        move |(x, y): (i32, i32)| {
            Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.mix(0.85).filled())
        }
    };
    chart
        .draw_series(bars(&ham_counts, 0.0, HAM))?
        .label(format!(
            "ham ({} comments{})",
            ham.len(),
            skipped_note(ham_skipped)
        ))
        .legend(legend_box(HAM));
    chart
        .draw_series(bars(&spam_counts, 0.46, SPAM))?
        .label(format!(
            "spam ({} comments{})",
            spam.len(),
            skipped_note(spam_skipped)
        ))
        .legend(legend_box(SPAM));

    let thresholds = [
        ("hold", input.hold_threshold, HOLD, 0),
        ("reject", input.reject_threshold, REJECT, 18),
    ];
    for (name, t, color, text_drop) in thresholds {
        if !in_unit_interval(t) {
            continue;
        }
        let style = color.stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new(
                [(t, HISTOGRAM_FLOOR), (t, y_top)],
                8,
                5,
                style,
            ))?
            .label(format!(
                "{name} threshold {t:.3}{}",
                bracketed(input.thresholds_note)
            ))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
        // Labels hang left of a line near 1 so that they stay inside the chart.
        let (anchor, dx) = if t > 0.8 {
            (HPos::Right, -5)
        } else {
            (HPos::Left, 5)
        };
        chart.plotting_area().draw(
            &(EmptyElement::at((t, y_top))
                + Text::new(
                    format!("{name} ≥ {t:.3}"),
                    (dx, 6 + text_drop),
                    (FONT, 14)
                        .into_font()
                        .color(&color)
                        .pos(Pos::new(anchor, VPos::Top)),
                )),
        )?;
    }

    if ham.is_empty() && spam.is_empty() {
        chart.plotting_area().draw(&Text::new(
            "no data",
            (0.5, (HISTOGRAM_FLOOR * y_top).sqrt()),
            note_style(),
        ))?;
    }

    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    Ok(())
}

fn paint_reliability(root: &Area<'_>, input: &PlotInput<'_>) -> DrawResult {
    let mut bins: Vec<(f64, f64, usize)> = input
        .reliability
        .iter()
        .copied()
        .filter(|&(p, o, n)| n > 0 && in_unit_interval(p) && in_unit_interval(o))
        .collect();
    bins.sort_by(|a, b| a.0.total_cmp(&b.0));
    let skipped = input.reliability.len() - bins.len();
    let total: usize = bins.iter().map(|b| b.2).sum();
    let largest = bins.iter().map(|b| b.2).max().unwrap_or(1) as f64;

    let mut chart = ChartBuilder::on(root)
        .caption(format!("Reliability — {}", input.title), (FONT, 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("mean predicted spam probability")
        .y_desc("observed spam fraction")
        .x_labels(11)
        .y_labels(11)
        .x_label_formatter(&|v| format!("{v:.1}"))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()?;

    chart
        .draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            6,
            4,
            GUIDE.stroke_width(1),
        ))?
        .label("perfectly calibrated")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], GUIDE.stroke_width(1)));

    if bins.is_empty() {
        chart
            .plotting_area()
            .draw(&Text::new("no data", (0.5, 0.5), note_style()))?;
    } else {
        chart
            .draw_series(LineSeries::new(
                bins.iter().map(|b| (b.0, b.1)),
                CURVE.stroke_width(2),
            ))?
            .label(format!(
                "observed, {total} comments in {} bins{} (marker area ∝ comments)",
                bins.len(),
                skipped_note(skipped)
            ))
            .legend(|(x, y)| {
                EmptyElement::at((x, y))
                    + PathElement::new([(0, 0), (20, 0)], CURVE.stroke_width(2))
                    + Circle::new((10, 0), 4, CURVE.filled())
            });
        // Area, not radius, proportional to the count, so a bin of 4x the comments looks 4x
        // as heavy; the floor keeps a near-empty bin visible.
        chart.draw_series(bins.iter().map(|&(p, o, n)| {
            let radius = (3.0 + 11.0 * (n as f64 / largest).sqrt()).round() as i32;
            // Counts near the right edge hang to the left so they stay inside the chart.
            let (anchor, dx) = if p > 0.85 {
                (HPos::Right, -radius - 3)
            } else {
                (HPos::Left, radius + 3)
            };
            let label_style = (FONT, 12)
                .into_font()
                .color(&BLACK.mix(0.7))
                .pos(Pos::new(anchor, VPos::Top));
            EmptyElement::at((p, o))
                + Circle::new((0, 0), radius, CURVE.mix(0.45).filled())
                + Circle::new((0, 0), radius, CURVE.stroke_width(1))
                + Text::new(format!("{n}"), (dx, -radius - 3), label_style)
        }))?;
    }

    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No data at all, with sensible thresholds: the error tests need only a valid input.
    fn empty(title: &str) -> PlotInput<'_> {
        PlotInput {
            title,
            roc: &[],
            auc: f64::NAN,
            ham_scores: &[],
            spam_scores: &[],
            reliability: &[],
            hold_threshold: 0.5,
            reject_threshold: 0.99,
            thresholds_note: "",
        }
    }

    fn read(path: &Path) -> String {
        let svg = fs::read_to_string(path).unwrap();
        assert!(
            svg.starts_with("<svg") || svg.starts_with("<?xml"),
            "{} does not look like SVG: {}",
            path.display(),
            &svg[..svg.len().min(80)]
        );
        assert!(
            svg.trim_end().ends_with("</svg>"),
            "{} is truncated",
            path.display()
        );
        svg
    }

    #[test]
    fn draws_three_charts_with_titles_and_legends() {
        let roc = [
            (0.0, 0.0),
            (0.0, 0.6),
            (0.002, 0.8),
            (0.01, 0.9),
            (0.04, 0.95),
            (0.2, 0.99),
            (1.0, 1.0),
        ];
        let mut ham: Vec<f64> = (0..200).map(|i| (i as f64 / 200.0).powi(8)).collect();
        ham.push(f64::NAN);
        let spam: Vec<f64> = (0..120).map(|i| 1.0 - (i as f64 / 120.0).powi(6)).collect();
        let reliability = [
            (0.05, 0.02, 150),
            (0.3, 0.25, 12),
            (0.7, 0.8, 9),
            (0.97, 0.99, 140),
        ];
        let input = PlotInput {
            title: "youtube-spam, leave one source out",
            roc: &roc,
            auc: 0.9876,
            ham_scores: &ham,
            spam_scores: &spam,
            reliability: &reliability,
            hold_threshold: 0.4181354241068897,
            reject_threshold: 0.99,
            thresholds_note: "median of 5 folds",
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("charts");
        let paths = draw(&out, &input).unwrap();
        let names: Vec<_> = paths
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["roc.svg", "histogram.svg", "reliability.svg"]);

        let roc_svg = read(&paths[0]);
        assert!(roc_svg.contains("youtube-spam, leave one source out"));
        assert!(roc_svg.contains("AUC 0.9876"));
        assert!(roc_svg.contains("chance"));
        assert!(
            roc_svg.contains("hold ≥ 0.418 (median of 5 folds), classifier alone: FPR"),
            "{roc_svg}"
        );
        assert!(!roc_svg.contains("0.41813"), "thresholds are rounded");

        let hist = read(&paths[1]);
        assert!(hist.contains("youtube-spam, leave one source out"));
        assert!(hist.contains("ham (200 comments, 1 invalid skipped)"));
        assert!(hist.contains("spam (120 comments)"));
        assert!(hist.contains("hold threshold 0.418 (median of 5 folds)"));
        assert!(hist.contains("reject threshold 0.990 (median of 5 folds)"));
        assert!(!hist.contains("0.41813"), "thresholds are rounded");

        let rel = read(&paths[2]);
        assert!(rel.contains("Reliability — youtube-spam"));
        assert!(rel.contains("perfectly calibrated"));
        assert!(rel.contains("311 comments in 4 bins"));
    }

    /// Empty and garbage inputs are drawn as charts that say so rather than refused: an
    /// evaluation on a split with no spam should still leave the other charts behind.
    #[test]
    fn empty_or_invalid_inputs_draw_empty_charts() {
        let nan_roc = [(f64::NAN, 0.5)];
        let nan_bins = [(f64::NAN, 0.5, 3), (0.5, 0.5, 0)];
        for (roc, scores, bins) in [
            (&[][..], &[][..], &[][..]),
            (&nan_roc[..], &[f64::NAN, -1.0, 2.0][..], &nan_bins[..]),
        ] {
            let input = PlotInput {
                title: "empty",
                roc,
                auc: f64::NAN,
                ham_scores: scores,
                spam_scores: scores,
                reliability: bins,
                hold_threshold: f64::NAN,
                reject_threshold: f64::INFINITY,
                thresholds_note: "",
            };
            let dir = tempfile::tempdir().unwrap();
            let paths = draw(dir.path(), &input).unwrap();
            let roc_svg = read(&paths[0]);
            assert!(roc_svg.contains("AUC n/a"));
            assert!(roc_svg.contains("no ROC points"));
            assert!(read(&paths[1]).contains("no data"));
            assert!(read(&paths[2]).contains("no data"));
        }
    }

    #[test]
    fn unwritable_chart_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should go fails even for root, unlike permissions.
        fs::create_dir(dir.path().join("histogram.svg")).unwrap();
        let err = draw(dir.path(), &empty("t")).unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("could not write chart"), "{message}");
        assert!(message.contains("histogram.svg"), "{message}");
    }

    #[test]
    fn unusable_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        fs::write(&file, "").unwrap();
        let err = draw(&file.join("charts"), &empty("t")).unwrap_err();
        assert!(format!("{err:#}").contains("could not create the chart directory"));
    }

    #[test]
    fn clipping_ends_the_curve_on_the_panel_edge() {
        let clipped = clip_roc(&[(0.0, 0.0), (0.02, 0.5), (0.1, 0.9), (1.0, 1.0)], 0.05);
        assert_eq!(clipped.len(), 3);
        let (x, y) = clipped[2];
        assert_eq!(x, 0.05);
        assert!((y - 0.65).abs() < 1e-12);
    }

    #[test]
    fn scores_at_the_edges_land_in_the_edge_bins() {
        let counts = bin_counts(&[0.0, 1.0, 0.999, 0.02]);
        assert_eq!(counts[0], 1);
        assert_eq!(counts[1], 1);
        assert_eq!(counts[HISTOGRAM_BINS - 1], 2);
    }
}
