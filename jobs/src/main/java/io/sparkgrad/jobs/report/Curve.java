package io.sparkgrad.jobs.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The training curve as a PNG, drawn headless with XChart: on the left the training and
 * validation loss per epoch, on the right the validation accuracy (or RMSE) per epoch, when the run
 * had validation data.
 */
public final class Curve {
    static final int WIDTH = 640;
    static final int HEIGHT = 420;

    private Curve() {
    }

    /** The PNG bytes of the curves of {@code epochs} (at least one). */
    public static byte[] png(List<EpochRecord> epochs, String title) throws IOException {
        System.setProperty("java.awt.headless", "true");
        double[] x = new double[epochs.size()];
        double[] train = new double[x.length];
        List<Double> vx = new ArrayList<>();
        List<Double> vLoss = new ArrayList<>();
        List<Double> vMetric = new ArrayList<>();
        String metric = epochs.get(0).metricName();
        for (int i = 0; i < x.length; i++) {
            EpochRecord e = epochs.get(i);
            x[i] = e.epoch();
            train[i] = e.trainLoss();
            if (!Double.isNaN(e.validationLoss())) {
                vx.add((double) e.epoch());
                vLoss.add(e.validationLoss());
                vMetric.add(e.validationMetric());
            }
        }
        List<XYChart> charts = new ArrayList<>();
        XYChart loss = chart(title + ": loss", "loss");
        style(loss.addSeries("train loss", x, train), new Color(0x1f77b4));
        if (!vx.isEmpty()) {
            style(loss.addSeries("validation loss", vx, vLoss), new Color(0xff7f0e));
        }
        charts.add(loss);
        if (!vx.isEmpty()) {
            XYChart m = chart(title + ": validation " + metric, metric);
            m.getStyler().setLegendPosition(metric.equals("accuracy") ? Styler.LegendPosition.InsideSE
                    : Styler.LegendPosition.InsideNE);
            style(m.addSeries("validation " + metric, vx, vMetric), new Color(0x2ca02c));
            charts.add(m);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(charts, 1, charts.size(), out, BitmapEncoder.BitmapFormat.PNG);
        return out.toByteArray();
    }

    private static XYChart chart(String title, String yTitle) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("epoch").yAxisTitle(yTitle)
                .build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setXAxisDecimalPattern("#");
        return c;
    }

    private static void style(XYSeries s, Color color) {
        s.setLineColor(color);
        s.setMarkerColor(color);
        s.setMarker(SeriesMarkers.CIRCLE);
    }
}
