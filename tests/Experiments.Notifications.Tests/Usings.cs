global using Experiments.TestInfrastructure.Servers;
