Console.WriteLine("Analysis benchmark: work in progress.");
