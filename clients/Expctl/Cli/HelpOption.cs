namespace Experiments.Expctl.Cli;

public static class HelpOption
{
    public static bool IsHelp(string argument) => argument is "--help" or "-h" or "help";
}
