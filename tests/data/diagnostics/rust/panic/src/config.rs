pub fn port(args: &[String]) -> u16 {
    let raw = args.get(1).cloned().unwrap_or_default();
    raw.parse::<u16>().expect("PORT must be a number")
}
