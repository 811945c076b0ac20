global using Experiments.Console.Tests.Browser;
global using Experiments.TestInfrastructure.Http;
global using Experiments.TestInfrastructure.Platform;
global using Microsoft.Playwright;
global using static Microsoft.Playwright.Assertions;
