using BenchmarkDotNet.Running;
using Experiments.Assignment.Benchmarks;

if (args is ["load", ..])
{
    return await LoadGenerator.RunAsync(args[1..]);
}
if (args is ["propagation", ..])
{
    return await PropagationProbe.RunAsync(args[1..]);
}
BenchmarkSwitcher.FromAssembly(typeof(EvaluationBenchmarks).Assembly).Run(args);
return 0;
