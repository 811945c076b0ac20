using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Experiments.Contracts.Tests")]
