Console.WriteLine("conformance: not wired yet");
return 0;
