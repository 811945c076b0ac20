global using Experiments.TestInfrastructure.Platform;
