// webpack gives an imported image as its URL.
declare module "*.svg" {
  const url: string
  export default url
}
