mod config;

fn main() {
    println!("reading config");
    let port = config::port(&[]);
    println!("port {}", port);
}
