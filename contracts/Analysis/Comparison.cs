namespace Experiments.Contracts.Analysis.V1;

/// <summary>
/// The comparison's means and lifts as nullable figures: null when the statistics leave them undefined (a variant
/// without users, a relative lift over a control mean of 0), never a 0 that would read as a real zero.
/// </summary>
public sealed partial class Comparison
{
    public double? ControlMeanOrNull
    {
        get => HasControlMean ? ControlMean : null;
        set { if (value is { } v) { ControlMean = v; } else { ClearControlMean(); } }
    }

    public double? MeanOrNull
    {
        get => HasMean ? Mean : null;
        set { if (value is { } v) { Mean = v; } else { ClearMean(); } }
    }

    public double? AbsoluteLiftOrNull
    {
        get => HasAbsoluteLift ? AbsoluteLift : null;
        set { if (value is { } v) { AbsoluteLift = v; } else { ClearAbsoluteLift(); } }
    }

    public double? RelativeLiftOrNull
    {
        get => HasRelativeLift ? RelativeLift : null;
        set { if (value is { } v) { RelativeLift = v; } else { ClearRelativeLift(); } }
    }
}
