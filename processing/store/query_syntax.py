"""The query syntax analysts type, in one line: `mediamon search --help` shows it without loading the search."""

SYNTAX_HELP = 'Lucene syntax as in Kibana, e.g. title:Лукашенко AND alarmism:>=0.5 or "EU must pay" -Belarus'
