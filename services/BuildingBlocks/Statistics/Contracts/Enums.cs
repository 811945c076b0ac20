namespace Experiments.Statistics.Contracts;

/// <summary>How a metric is reduced per user: 0/1 conversions or any real value.</summary>
public enum MetricType
{
    Binary,
    Continuous,
}

/// <summary>The hypothesis test run on each treatment against the control.</summary>
public enum TestKind
{
    /// <summary>Always-valid mixture sequential probability ratio test (the default).</summary>
    Sequential,

    /// <summary>Welch's two-sample t-test (fixed horizon: peeking inflates its error rate).</summary>
    Ttest,
}

/// <summary>The direction a metric is meant to move; a direction makes the test one-sided.</summary>
public enum Direction
{
    /// <summary>Two-sided (the default).</summary>
    Any,
    Increase,
    Decrease,
}

/// <summary>Multiple-comparison correction across the treatments of a request (or across metrics).</summary>
public enum CorrectionMethod
{
    None,
    Bonferroni,
    Holm,
    BenjaminiHochberg,
}
