namespace Experiments.Statistics.Estimation;

/// <summary>An estimate on one scale with the variance of its sampling distribution.</summary>
public readonly record struct Estimate(double Value, double Variance)
{
    public double StandardError => Math.Sqrt(Variance);
}

/// <summary>Absolute lift d = m_t − m_c and relative lift r = d/m_c with the delta-method variance.</summary>
public readonly record struct LiftEstimate(Estimate Absolute, Estimate? Relative)
{
    public static LiftEstimate Between(SampleMoments control, SampleMoments treatment)
    {
        var difference = treatment.Mean - control.Mean;
        var absolute = new Estimate(difference, treatment.MeanVariance + control.MeanVariance);
        if (control.Mean == 0.0 || !double.IsFinite(control.Mean))
        {
            return new(absolute, null);
        }

        // se_rel² = v_t/(n_t·m_c²) + m_t²·v_c/(n_c·m_c⁴)
        var controlSquared = control.Mean * control.Mean;
        var relativeVariance = treatment.MeanVariance / controlSquared
            + treatment.Mean * treatment.Mean * control.MeanVariance / (controlSquared * controlSquared);
        return new(absolute, new Estimate(difference / control.Mean, relativeVariance));
    }
}
