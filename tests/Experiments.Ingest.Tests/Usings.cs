global using Experiments.Ingest.Tests.Support;
global using Experiments.TestInfrastructure.Servers;
