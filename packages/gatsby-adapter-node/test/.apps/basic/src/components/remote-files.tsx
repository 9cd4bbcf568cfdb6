import * as React from "react"
import { graphql } from "gatsby"
import { GatsbyImage, type IGatsbyImageData } from "gatsby-plugin-image"

// The remote images of gatsby-node.ts, as Gatsby's own adapter suite shows them (its remote-file
// component): each one's File CDN link, a resize, and gatsbyImage in each layout and placeholder, in the
// quality of the page's context (gatsby-node.ts's onCreatePage).
export type RemoteFiles = {
  allMyRemoteFile: {
    nodes: Array<{
      id: string
      filename: string
      publicUrl: string
      resize: { src: string; width: number; height: number }
      fixed: IGatsbyImageData
      constrained: IGatsbyImageData
      constrained_traced: IGatsbyImageData
      full: IGatsbyImageData
    }>
  }
}

// Each gatsbyImage of the query, in a box named for it.
const LAYOUTS = ["fixed", "constrained", "constrained_traced", "full"] as const

export const RemoteFileList = ({ data }: { data: RemoteFiles }) => (
  <>
    {data.allMyRemoteFile.nodes.map((node) => (
      <div key={node.id}>
        <a data-testid="public" href={node.publicUrl}>
          {node.filename}
        </a>
        <img
          className="resize"
          src={node.resize.src}
          width={node.resize.width}
          height={node.resize.height}
          alt=""
        />
        {LAYOUTS.map((layout) => (
          <div key={layout} className={layout}>
            <GatsbyImage image={node[layout]} alt="" />
          </div>
        ))}
      </div>
    ))}
  </>
)

export const remoteFileFields = graphql`
  fragment RemoteFiles on Query {
    allMyRemoteFile(sort: { filename: ASC }) {
      nodes {
        id
        filename
        publicUrl
        resize(width: 100, quality: $quality) {
          src
          width
          height
        }
        fixed: gatsbyImage(layout: FIXED, width: 100, placeholder: DOMINANT_COLOR, quality: $quality)
        constrained: gatsbyImage(layout: CONSTRAINED, width: 300, placeholder: BLURRED, quality: $quality)
        constrained_traced: gatsbyImage(
          layout: CONSTRAINED
          width: 300
          placeholder: TRACED_SVG
          quality: $quality
        )
        full: gatsbyImage(layout: FULL_WIDTH, width: 500, placeholder: NONE, quality: $quality)
      }
    }
  }
`
